"""The model card (model.json) and the ONNX metadata of a trained version: what a server needs to know."""

from __future__ import annotations

import hashlib
import platform
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import onnx
import torch

from training.core.data import FeatureSeries, Split, make_feature_windows
from training.core.records import DataRecord, ModelCard, ScoreTable, TestMetrics
from training.net import export
from training.net.train import TrainConfig, TrainResult, predict
from training.scoring import holdout, metrics


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
    length: int | str = "length" if mc.max_window > mc.window else mc.window
    shape = ["batch", length] if len(names) == 1 else ["batch", length, len(names)]
    step = [] if mc.horizon == 1 else [mc.horizon]
    intervals = scores["model"].get("intervals", {})
    files: list[DataRecord] = [data_record(s, split) for s, split in result.datasets]
    return {
        "format": export.FORMAT,
        "window": mc.window,
        "min_window": mc.window,
        "max_window": mc.max_window,
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
        "window_table": {"prior_returns": result.model.net.table.prior_returns()} if result.model.net.table else None,
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
        "min_window": str(card["min_window"]),
        "max_window": str(card["max_window"]),
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
