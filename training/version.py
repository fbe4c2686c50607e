"""Builds one complete model version: train, score on the test split, export, verify, write the card."""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnx
import torch

from training import export, holdout, metrics, plots, registry
from training.data import FeatureSeries, Split, make_feature_windows
from training.tables import DataRecord, ModelCard, ScoreTable, TestMetrics
from training.train import TrainConfig, TrainResult, predict, split_all, train
from training.universe import load_universe

log = logging.getLogger(__name__)


@dataclass
class BuiltVersion:
    """A staged, verified version directory waiting to be published."""

    version: str
    staged: Path
    card: ModelCard
    summary: list[str] = field(default_factory=list)  # the test-split table and the gate's verdict, to show


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def torch_forecaster(result: TrainResult) -> holdout.Forecaster:
    """Next-day point forecasts and quantiles of the trained torch model, for holdout scoring."""

    def forecast(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        point, quantiles = predict(result.model, windows)
        return point[:, 0], quantiles[:, 0, :]

    return forecast


def score_test_split(result: TrainResult, config: TrainConfig) -> tuple[ScoreTable, holdout.Holdout]:
    """The model, naive, GARCH(1,1)-t and EWMA on every series' test split, pooled (next day)."""
    series = [s for s, _ in result.datasets]
    days = holdout.holdout_days(series, config.test_days, config.model.window)
    table = holdout.score_all(days, {"model": torch_forecaster(result)}, config.model.quantiles)
    return table, days


def test_metrics(table: ScoreTable, days: holdout.Holdout, result: TrainResult) -> TestMetrics:
    """The card's metrics.test: every row of the table, the MAE ratio, per-step MAE for multi-day models."""
    rows = holdout.without_daily(table)
    scores: TestMetrics = {
        "days": days.days,
        "series": [s.source for s in days.series],
        "mae_ratio": rows["model"]["mae"] / rows["naive"]["mae"],
        **rows,
    }
    scores["dm_pinball_vs_garch_t"] = holdout.dm_pinball(table, "model", holdout.GARCH_T)
    if "pinball_by_day" in table["model"]:
        scores["per_series"] = holdout.per_series(table, "model", days)
    if result.model.net.horizon > 1:
        series, split = result.datasets[0]
        x, y, _ = make_feature_windows(series.values, split.window, split.test_start, split.n, result.model.net.horizon)
        point, _ = predict(result.model, x)
        scores["mae_by_step"] = [
            {"step": h + 1, "model": metrics.mae(y[:, h], point[:, h]), "naive": metrics.mae(y[:, h], x[:, -1, 0])}
            for h in range(y.shape[1])
        ]
    return scores


def data_record(series: FeatureSeries, split: Split) -> DataRecord:
    """One training file in the card: name, sha256, date range and where its splits begin."""
    return {
        "file": series.source,
        "sha256": series.target.sha256,
        "column": series.column,
        "start": str(series.dates[0]),
        "end": str(series.dates[-1]),
        "rows": len(series),
        "train_end": str(series.dates[split.val_start - 1]),
        "validation_start": str(series.dates[split.val_start]),
        "test_start": str(series.dates[split.test_start]),
    }


def model_card(config: TrainConfig, result: TrainResult, scores: TestMetrics, created: datetime) -> ModelCard:
    """Everything a server or a person needs to know about the model (model.json and ONNX metadata)."""
    mc, names = config.model, result.datasets[0][0].names
    shape = ["batch", mc.window] if len(names) == 1 else ["batch", mc.window, len(names)]
    step = [] if mc.horizon == 1 else [mc.horizon]
    intervals = scores["model"].get("intervals", {})
    files: list[DataRecord] = [data_record(s, split) for s, split in result.datasets]
    return {
        "format": export.FORMAT,
        "window": mc.window,
        "horizon": mc.horizon,
        "features": names,
        "quantiles": list(mc.quantiles),
        "interval_coverage": {
            k.removeprefix("coverage_"): v["coverage"] for k, v in intervals.items() if k.startswith("coverage_")
        },
        "inputs": {"window": shape},
        "outputs": {"forecast": ["batch", *step], "quantiles": ["batch", *step, len(mc.quantiles)]},
        "normalization": result.model.normalizer.describe(),
        "calibration": result.calibration,
        "architecture": {k: v for k, v in asdict(mc).items() if k not in ("quantiles",)},
        "volatility_filter": result.model.net.vol.describe() if result.model.net.vol is not None else None,
        "training": {
            "data": files,
            "data_file": ", ".join(f["file"] for f in files),
            "data_sha256": files[0]["sha256"],
            "column": files[0]["column"],
            "extras": {name: Path(path).name for name, path in config.extras.items()},
            "data_start": min(f["start"] for f in files),
            "data_end": max(f["end"] for f in files),
            "rows": sum(f["rows"] for f in files),
            "epochs_run": len(result.history),
            "best_epoch": result.best_epoch,
            "loss": "pinball (quantile) loss; the forecast is the median",
            "batch_size": config.batch_size,
            "lr": config.lr,
            "seed": config.seed,
            "options": training_options(config),
        },
        "metrics": {"test": scores},
        "created": created.isoformat(timespec="seconds"),
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
        "python_version": platform.python_version(),
    }


def training_options(config: TrainConfig) -> dict[str, object]:
    """Every option the run was given, as JSON (file names, not paths: a card must not depend on a checkout)."""
    options = asdict(config)
    options["data"] = [Path(p).name for p in config.data]
    options["extras"] = {name: Path(p).name for name, p in config.extras.items()}
    for key in ("threads", "progress"):  # how, not what: they do not change the model
        options.pop(key)
    return options


def onnx_metadata(card: ModelCard) -> dict[str, object]:
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
        "calibration": card["calibration"],
        "cell": card["architecture"]["cell"],
        "layers": str(card["architecture"]["layers"]),
        "hidden": str(card["architecture"]["hidden"]),
        "data": t["data"],
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


def build_version(
    config: TrainConfig,
    registry_dir: Path,
    series: list[FeatureSeries] | None = None,
    on_gate_failure: str = "refuse",
) -> BuiltVersion:
    """Trains and verifies a model in a staging directory of the registry; publishes nothing.

    A model failing the quality gate raises GateRefused after the table is printed ("refuse"), is built
    anyway and marked forced ("force", train --force), or is built for a caller that decides ("defer", retrain).
    """
    series = series if series is not None else load_universe(config)
    result = train(config, split_all(config, series))
    table, days = score_test_split(result, config)
    problems = holdout.gate(table, "model", days)
    notes = {"refuse": "", "force": " (published anyway: --force)", "defer": " (the retrain decision applies it)"}
    verdict = "passed" if not problems else f"FAILED{notes[on_gate_failure]}: "
    summary = [holdout.format_table(table), holdout.ratios_line(table, "model")]
    if "pinball_by_day" in table["model"]:
        summary.append(holdout.format_per_series(holdout.per_series(table, "model", days)))
    summary.append(f"quality gate on the test split ({days.days} days): {verdict}{'; '.join(problems)}")
    if problems and on_gate_failure == "refuse":
        raise metrics.GateRefused(problems, summary)
    created = datetime.now(UTC)
    card = model_card(config, result, test_metrics(table, days, result), created)
    forced = bool(problems) and on_gate_failure == "force"
    card["quality_gate"] = {"passed": not problems, "forced": forced, "problems": problems}
    # The version name hashes the weights, so it is known before the ONNX file (which holds it) exists.
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in result.model.parameters()))
    card["version"] = registry.unused_version(registry_dir, registry.new_version(created, digest.hexdigest()))
    staged = registry.staging_dir(registry_dir)
    try:
        write_version(staged, card, result, days, table)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return BuiltVersion(version=card["version"], staged=staged, card=card, summary=summary)


def write_version(staged: Path, card: ModelCard, result: TrainResult, days: holdout.Holdout, table: ScoreTable) -> None:
    """model.onnx (verified against torch), model.json and the test plot, into the staging directory."""
    windows = days.windows[..., 0] if result.model.univariate else days.windows
    onnx_path = staged / "model.onnx"
    export.export_onnx(result.model, card["window"], onnx_path, onnx_metadata(card), len(card["features"]))
    card["parity_max_rel_diff"] = export.check_parity(result.model, onnx_path, windows)
    card["golden"] = export.golden_references(result.model, windows)
    card["onnx_sha256"] = sha256_file(onnx_path)
    card["history"] = result.history
    # The PyTorch weights, for fine-tuning and for the benchmark's PyTorch peer; the service never reads them.
    torch.save(result.model.state_dict(), staged / "weights.pt")
    (staged / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    write_calibration_plot(staged, card, table)
    first = days.owner == 0
    point, quantiles = torch_forecaster(result)(days.windows[first])
    levels = card["quantiles"]
    band = None
    if quantiles is not None and {0.1, 0.9} <= set(levels):
        band = (quantiles[:, levels.index(0.1)], quantiles[:, levels.index(0.9)])
    series = days.series[0]
    plots.plot_test_period(
        series.dates[days.starts[0] :],
        days.actual[first],
        point,
        days.last[first],
        staged / "test_forecast.png",
        f"{series.source} ({series.column}), test split: {card['version']}",
        band,
    )


def write_calibration_plot(staged: Path, card: ModelCard, table: ScoreTable) -> None:
    """calibration.png: the model's, GARCH-t's and EWMA's quantile calibration on the test split, as scored."""
    shares = {name: row["calibration"] for name, row in table.items() if "calibration" in row}
    plots.plot_calibration(
        card["quantiles"], shares, staged / "calibration.png", f"test split calibration: {card['version']}"
    )


def train_and_publish(config: TrainConfig, registry_dir: Path, force: bool = False) -> BuiltVersion:
    """`training train`: build a version, publish it and point CURRENT at it, under the registry lock.

    Bad data is refused before the registry is touched; a registry this call created is removed again when
    nothing was published into it (it would hold only the lock file).
    """
    series = load_universe(config)
    created = not registry_dir.exists()
    try:
        return publish_new(config, registry_dir, series, force)
    except BaseException:
        if created:
            registry.remove_if_unused(registry_dir)
        raise


def publish_new(config: TrainConfig, registry_dir: Path, series: list[FeatureSeries], force: bool) -> BuiltVersion:
    """Builds, publishes and points CURRENT at a version, under the registry lock."""
    with registry.registry_lock(registry_dir):
        built = build_version(config, registry_dir, series, on_gate_failure="force" if force else "refuse")
        registry.publish(registry_dir, built.staged, built.version)
        registry.set_current(registry_dir, built.version)
        gate = built.card["quality_gate"]
        registry.append_history(
            registry_dir,
            {
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "decision": "published",
                "reason": "training train" + (" (quality gate overridden with --force)" if gate["forced"] else ""),
                "forced": gate["forced"],
                "version": built.version,
                "quality_gate": gate,
            },
        )
    log.info("published %s; CURRENT -> %s", registry_dir / built.version, built.version)
    return built
