"""Builds one complete model version: train, score on the test split, export, verify, write the card."""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnx
import torch

from training import export, metrics, plots, registry
from training.data import FeatureSeries, chronological_split, make_feature_windows
from training.train import TrainConfig, TrainResult, load_training_data, predict, train

log = logging.getLogger(__name__)


@dataclass
class BuiltVersion:
    """A staged, verified version directory waiting to be published."""

    version: str
    staged: Path
    card: dict


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def score_test_split(
    result: TrainResult, series: FeatureSeries, levels: tuple[float, ...]
) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """Model vs naive on the test split (step 1, plus MAE per step); returns windows, targets, quantiles."""
    split, horizon = result.split, result.model.net.horizon
    x, y, _ = make_feature_windows(series.values, split.window, split.test_start, split.n, horizon)
    point, quantiles = predict(result.model, x)
    last = x[:, -1, 0]
    scores = metrics.compare_with_naive(last, y[:, 0], point[:, 0], quantiles[:, 0, :], levels)
    if horizon > 1:
        scores["mae_by_step"] = [
            {"step": h + 1, "model": metrics.mae(y[:, h], point[:, h]), "naive": metrics.mae(y[:, h], last)}
            for h in range(horizon)
        ]
    return scores, x, y, quantiles


def model_card(
    config: TrainConfig, series: FeatureSeries, result: TrainResult, scores: dict, created: datetime
) -> dict:
    """Everything a server or a person needs to know about the model (model.json and ONNX metadata)."""
    split, mc = result.split, config.model
    univariate = len(series.names) == 1
    shape = ["batch", mc.window] if univariate else ["batch", mc.window, len(series.names)]
    step = [] if mc.horizon == 1 else [mc.horizon]
    intervals = scores.get("intervals", {})
    return {
        "format": export.FORMAT,
        "window": mc.window,
        "horizon": mc.horizon,
        "features": series.names,
        "quantiles": list(mc.quantiles),
        "interval_coverage": {
            k.removeprefix("coverage_"): v["coverage"] for k, v in intervals.items() if k.startswith("coverage_")
        },
        "inputs": {"window": shape},
        "outputs": {"forecast": ["batch", *step], "quantiles": ["batch", *step, len(mc.quantiles)]},
        "normalization": result.model.normalizer.describe(),
        "architecture": {k: v for k, v in asdict(mc).items() if k not in ("quantiles",)},
        "training": {
            "data_file": series.source,
            "data_sha256": series.target.sha256,
            "column": series.column,
            "extras": {name: Path(path).name for name, path in config.extras.items()},
            "data_start": str(series.dates[0]),
            "data_end": str(series.dates[-1]),
            "rows": len(series),
            "train_end": str(series.dates[split.val_start - 1]),
            "validation_start": str(series.dates[split.val_start]),
            "test_start": str(series.dates[split.test_start]),
            "epochs_run": len(result.history),
            "best_epoch": result.best_epoch,
            "loss": "pinball (quantile) loss; the forecast is the median",
            "batch_size": config.batch_size,
            "lr": config.lr,
            "seed": config.seed,
        },
        "metrics": {"test": scores},
        "created": created.isoformat(timespec="seconds"),
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
        "python_version": platform.python_version(),
    }


def onnx_metadata(card: dict) -> dict[str, object]:
    """The flat key/value subset stored inside the ONNX file (values JSON-encoded when not strings)."""
    t = card["training"]
    return {
        "version": card["version"],
        "format": card["format"],
        "window": str(card["window"]),
        "horizon": str(card["horizon"]),
        "features": card["features"],
        "quantiles": card["quantiles"],
        "normalization": card["normalization"],
        "cell": card["architecture"]["cell"],
        "layers": str(card["architecture"]["layers"]),
        "hidden": str(card["architecture"]["hidden"]),
        "data_file": t["data_file"],
        "data_sha256": t["data_sha256"],
        "data_start": t["data_start"],
        "data_end": t["data_end"],
        "column": t["column"],
        "metrics": card["metrics"],
        "created": card["created"],
        "torch_version": card["torch_version"],
        "onnx_version": card["onnx_version"],
    }


def build_version(config: TrainConfig, registry_dir: Path, series: FeatureSeries | None = None) -> BuiltVersion:
    """Trains and verifies a model in a staging directory of the registry; publishes nothing."""
    series = series if series is not None else load_training_data(config)
    config.model.features = len(series.names)
    split = chronological_split(series, config.model.window, config.val_days, config.test_days, config.model.horizon)
    result = train(config, series, split)
    scores, test_x, test_y, test_q = score_test_split(result, series, config.model.quantiles)
    problems = metrics.gate_failures({**scores["model"], **scores}, scores["naive"])
    print(metrics.format_table(scores), flush=True)
    print("quality gate on the test split: " + ("passed" if not problems else "FAILED: " + "; ".join(problems)))
    created = datetime.now(UTC)
    card = model_card(config, series, result, scores, created)
    card["quality_gate"] = {"passed": not problems, "problems": problems}
    # The version name hashes the weights, so it is known before the ONNX file (which holds it) exists.
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in result.model.parameters()))
    card["version"] = registry.unused_version(registry_dir, registry.new_version(created, digest.hexdigest()))
    staged = registry.staging_dir(registry_dir)
    try:
        write_version(staged, card, result, series, (test_x, test_y, test_q))
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return BuiltVersion(version=card["version"], staged=staged, card=card)


def write_version(
    staged: Path,
    card: dict,
    result: TrainResult,
    series: FeatureSeries,
    test: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """model.onnx (verified against torch), model.json and the test plot, into the staging directory."""
    test_x, test_y, test_q = test
    inputs = test_x[..., 0] if result.model.univariate else test_x
    onnx_path = staged / "model.onnx"
    export.export_onnx(result.model, card["window"], onnx_path, onnx_metadata(card), len(series.names))
    card["parity_max_rel_diff"] = export.check_parity(result.model, onnx_path, inputs)
    card["golden"] = export.golden_references(result.model, inputs)
    card["onnx_sha256"] = sha256_file(onnx_path)
    card["history"] = result.history
    # The PyTorch weights, for fine-tuning and for the benchmark's PyTorch peer; the service never reads them.
    torch.save(result.model.state_dict(), staged / "weights.pt")
    (staged / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    levels = card["quantiles"]
    band = (
        (test_q[:, 0, levels.index(0.1)], test_q[:, 0, levels.index(0.9)]) if 0.1 in levels and 0.9 in levels else None
    )
    plots.plot_test_period(
        series.dates[result.split.test_start : result.split.test_start + len(test_y)],
        test_y[:, 0],
        test_q[:, 0, result.model.net.median],
        test_x[:, -1, 0],
        staged / "test_forecast.png",
        f"{series.source} ({series.column}), test split: {card['version']}",
        band,
    )


def train_and_publish(config: TrainConfig) -> BuiltVersion:
    """`training train`: build a version, publish it and point CURRENT at it, under the registry lock."""
    with registry.registry_lock(config.out):
        built = build_version(config, config.out)
        registry.publish(config.out, built.staged, built.version)
        registry.set_current(config.out, built.version)
    log.info("published %s; CURRENT -> %s", config.out / built.version, built.version)
    return built
