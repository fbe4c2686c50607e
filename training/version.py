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
from training.data import PriceSeries, chronological_split, load_csv, make_windows
from training.train import TrainConfig, TrainResult, predict, train

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


def score_test_split(result: TrainResult, series: PriceSeries) -> tuple[dict, np.ndarray, np.ndarray]:
    """Model vs naive on the test split; also returns the test windows and the model's forecasts."""
    split, window = result.split, result.split.window
    x, y, _ = make_windows(series.prices, window, split.test_start, split.n)
    forecast = predict(result.model, x)
    return metrics.compare_with_naive(x[:, -1], y[:, 0], forecast), x, forecast


def model_card(
    config: TrainConfig, series: PriceSeries, result: TrainResult, scores: dict, created: datetime
) -> dict:
    """Everything a server or a person needs to know about the model (model.json and ONNX metadata)."""
    split = result.split
    return {
        "format": export.FORMAT,
        "window": config.model.window,
        "horizon": 1,
        "features": ["price"],
        "inputs": {"window": ["batch", config.model.window]},
        "outputs": {"forecast": ["batch"]},
        "normalization": result.model.normalizer.describe(),
        "architecture": asdict(config.model),
        "training": {
            "data_file": series.source,
            "data_sha256": series.sha256,
            "column": series.column,
            "data_start": str(series.dates[0]),
            "data_end": str(series.dates[-1]),
            "rows": len(series),
            "train_end": str(series.dates[split.val_start - 1]),
            "validation_start": str(series.dates[split.val_start]),
            "test_start": str(series.dates[split.test_start]),
            "epochs_run": len(result.history),
            "best_epoch": result.best_epoch,
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


def build_version(config: TrainConfig, registry_dir: Path, series: PriceSeries | None = None) -> BuiltVersion:
    """Trains and verifies a model in a staging directory of the registry; publishes nothing."""
    series = series if series is not None else load_csv(config.data, config.column)
    split = chronological_split(series, config.model.window, config.val_days, config.test_days)
    result = train(config, series, split)
    scores, test_x, test_forecast = score_test_split(result, series)
    print(metrics.format_table(scores), flush=True)
    created = datetime.now(UTC)
    card = model_card(config, series, result, scores, created)
    # The version name hashes the weights, so it is known before the ONNX file (which holds it) exists.
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in result.model.parameters()))
    card["version"] = registry.new_version(created, digest.hexdigest())
    staged = registry.staging_dir(registry_dir)
    try:
        write_version(staged, card, result, series, test_x, test_forecast)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return BuiltVersion(version=card["version"], staged=staged, card=card)


def write_version(
    staged: Path,
    card: dict,
    result: TrainResult,
    series: PriceSeries,
    test_x: np.ndarray,
    test_forecast: np.ndarray,
) -> None:
    """model.onnx (verified against torch), model.json and the test plot, into the staging directory."""
    window, split = result.split.window, result.split
    onnx_path = staged / "model.onnx"
    export.export_onnx(result.model, window, onnx_path, onnx_metadata(card))
    card["parity_max_rel_diff"] = export.check_parity(result.model, onnx_path, test_x)
    card["golden"] = export.golden_references(result.model, test_x)
    card["onnx_sha256"] = sha256_file(onnx_path)
    card["history"] = result.history
    (staged / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    _, y, _ = make_windows(series.prices, split.window, split.test_start, split.n)
    plots.plot_test_period(
        series.dates[split.test_start :],
        y[:, 0],
        test_forecast,
        test_x[:, -1],
        staged / "test_forecast.png",
        f"{series.source} ({series.column}), test split: {card['version']}",
    )


def train_and_publish(config: TrainConfig) -> BuiltVersion:
    """`training train`: build a version, publish it and point CURRENT at it, under the registry lock."""
    with registry.registry_lock(config.out):
        built = build_version(config, config.out)
        registry.publish(config.out, built.staged, built.version)
        registry.set_current(config.out, built.version)
    log.info("published %s; CURRENT -> %s", config.out / built.version, built.version)
    return built
