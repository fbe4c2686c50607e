"""Leave-one-asset-out: every real series scored by a model trained without it, and held-out simulated
assets by the model trained on everything, next to FHS, GARCH(1,1)-t, GJR-GARCH-skew-t and EWMA."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from training.core.config import TrainConfig
from training.core.data import FeatureSeries, make_feature_windows
from training.core.synthetic import held_out_assets
from training.scoring import holdout, metrics, significance
from training.scoring.baselines import FIT_DAYS

log = logging.getLogger(__name__)

MAX_DAYS = 2500  # the newest days scored per series (at least MIN_DAYS, as history allows)
MIN_DAYS = 1000
LONGEST_WINDOW = 120  # every variant is scored on the same days: room for the longest window tried
STRONGEST = (holdout.FHS, holdout.GARCH_T, holdout.GJR)
ALPHA = 0.05


@dataclass(frozen=True)
class Fold:
    """One training run and the series it is scored on (which it never saw)."""

    name: str
    config: TrainConfig
    scored: list[str]  # sources of the scored series


def scored_targets(series: FeatureSeries) -> np.ndarray:
    """The newest min(2,500, what the history allows) target days, leaving each baseline its 1,000 returns."""
    days = min(MAX_DAYS, len(series) - FIT_DAYS - 1 - LONGEST_WINDOW)
    if days < MIN_DAYS:
        raise ValueError(f"{series.source}: {len(series)} prices leave {days} days to score, fewer than {MIN_DAYS}")
    return np.arange(len(series) - days, len(series))


def folds(config: TrainConfig, real: list[FeatureSeries], simulated: list[FeatureSeries]) -> list[Fold]:
    """One fold per real series (the config's data without that file), and one on all of the config's data
    for the held-out simulated assets."""
    found = []
    for series in real:
        others = [path for path in config.data if Path(path).name != series.source]
        found.append(Fold(f"without {series.source}", replace(config, data=others), [series.source]))
    found.append(Fold("all series", config, [s.source for s in simulated]))
    return found


@dataclass
class FoldResult:
    """A fold model's quantiles on its scored days, how long it trained, and its ONNX speed."""

    quantiles: dict[str, np.ndarray]
    train_seconds: float
    windows_per_second: float


def fit_and_forecast(config: TrainConfig, scored: list[FeatureSeries]) -> FoldResult:
    """Trains one fold's model (one thread: folds run side by side) and forecasts the scored days."""
    from training.core.universe import load_universe
    from training.net.train import predict, split_all, train

    config = replace(config, threads=1, progress=False)
    started = time.monotonic()
    model = train(config, split_all(config, load_universe(config))).model
    seconds = time.monotonic() - started
    found = {}
    for series in scored:
        targets = scored_targets(series)
        x, _, _ = make_feature_windows(series.values, config.model.window, int(targets[0]), len(series))
        found[series.source] = predict(model, x)[1][:, 0, :]
    return FoldResult(found, seconds, onnx_speed(model, config))


SPEED_BATCH, SPEED_RUNS = 64, 1000


def onnx_speed(model: Any, config: TrainConfig) -> float:
    """Windows a second through the exported graph: onnxruntime on the CPU, one thread, batches of 64."""
    import tempfile

    import onnxruntime as ort

    from training.net.export import export_onnx

    features = len(config.features)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(model, config.model.window, path, {"version": "speed"}, features)
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    shape = (SPEED_BATCH, config.model.window) if features == 1 else (SPEED_BATCH, config.model.window, features)
    x = (100 * np.exp(np.random.default_rng(0).normal(0, 0.01, shape).cumsum(axis=1))).astype(np.float32)
    for _ in range(10):
        session.run(None, {"window": x})
    started = time.perf_counter()
    for _ in range(SPEED_RUNS):
        session.run(None, {"window": x})
    return SPEED_BATCH * SPEED_RUNS / (time.perf_counter() - started)


def baseline_forecasts(series: FeatureSeries, levels: tuple[float, ...], window: int, cache: Path) -> dict[str, Any]:
    """The simple methods' quantiles on a series' scored days, cached by its prices, days, levels and window."""
    targets = scored_targets(series)
    key = hashlib.sha256(series.prices.tobytes() + repr((targets[0], levels, window)).encode()).hexdigest()[:20]
    path = cache / f"{key}.npz"
    if path.is_file():
        with np.load(path) as saved:
            return {name: saved[str(i)] for i, name in enumerate(holdout.BASELINES)}
    found = holdout.series_baselines(series.prices, targets, levels, window)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{str(i): found[name] for i, name in enumerate(holdout.BASELINES)})
    return found


def series_row(series: FeatureSeries, forecasts: dict[str, np.ndarray], levels: tuple[float, ...]) -> dict[str, Any]:
    """Every forecaster on one series: coverage (Kupiec, Christoffersen), DQ at 10% and 90%, pinball per level
    and overall (in % of price), and the model's DM tests against the strongest simple methods."""
    targets = scored_targets(series)
    actual, last = series.prices[targets], series.prices[targets - 1]
    rows, daily = {}, {}
    for name, q in forecasts.items():
        daily[name] = metrics.relative_pinball_by_day(last, actual, q, np.array(levels))
        intervals = metrics.interval_scores(actual, q, levels, last)
        per_level = [
            float(np.mean(metrics.relative_pinball_by_day(last, actual, q[:, [i]], np.array([lv]))))
            for i, lv in enumerate(levels)
        ]
        dq = {
            f"{lv:g}": significance.dynamic_quantile_test(actual / last - 1, q[:, levels.index(lv)] / last - 1, lv)
            for lv in (0.1, 0.9)
            if lv in levels
        }
        rows[name] = {"intervals": intervals, "pinball_by_level": per_level, "dq_p_value": dq}
    dm = {other: significance.diebold_mariano_hac(daily["model"], daily[other]) for other in STRONGEST}
    return {
        "series": series.source,
        "days": len(targets),
        "start": str(series.dates[targets[0]]),
        "end": str(series.dates[targets[-1]]),
        "forecasters": rows,
        "dm": dm,
        "ratio": {other: float(daily["model"].mean() / daily[other].mean()) for other in STRONGEST},
    }


def add_holm(rows: list[dict[str, Any]]) -> None:
    """Holm-adjusted p-values across series, one family per baseline."""
    for other in STRONGEST:
        adjusted = significance.holm([r["dm"][other]["p_value"] for r in rows])
        for r, p in zip(rows, adjusted, strict=True):
            r["dm"][other]["p_holm"] = p


@dataclass
class Outcome:
    """The protocol's rows, one per held-out series, and the cost of the model trained on everything."""

    rows: list[dict[str, Any]]
    train_seconds: float
    windows_per_second: float


def run(
    config: TrainConfig,
    real: list[FeatureSeries],
    cache: Path,
    jobs: int = 0,
    simulated: list[FeatureSeries] | None = None,
) -> Outcome:
    """Trains every fold (side by side on the CPUs), scores every held-out series; one row per series."""
    simulated = held_out_assets() if simulated is None else simulated
    by_source = {s.source: s for s in [*real, *simulated]}
    levels, window = config.model.quantiles, config.model.window
    workers = jobs or len(os.sched_getaffinity(0))
    started = time.monotonic()
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        pending: list[tuple[Fold, Future[FoldResult]]] = [
            (fold, pool.submit(fit_and_forecast, fold.config, [by_source[s] for s in fold.scored]))
            for fold in folds(config, real, simulated)
        ]
        base = {s: baseline_forecasts(series, levels, window, cache) for s, series in by_source.items()}
        rows, result = [], None
        for fold, future in pending:
            result = future.result()
            for source, quantiles in result.quantiles.items():
                rows.append(series_row(by_source[source], {"model": quantiles, **base[source]}, levels))
            log.info("%s: done (%.0f s since start)", fold.name, time.monotonic() - started)
    add_holm(rows)
    assert result is not None  # the last fold trains on everything
    return Outcome(rows, result.train_seconds, result.windows_per_second)


def verdicts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Where the model loses or wins significantly (Holm), and coverage in its bands, series by series."""
    losses = [
        f"{r['series']} vs {o.removeprefix('naive + ')}"
        for r in rows
        for o in STRONGEST
        if r["dm"][o]["statistic"] > 0 and r["dm"][o]["p_holm"] < ALPHA
    ]
    wins = {
        o: [r["series"] for r in rows if r["dm"][o]["statistic"] < 0 and r["dm"][o]["p_holm"] < ALPHA]
        for o in STRONGEST
    }
    coverage = [
        r["series"]
        for r in rows
        if not (
            0.77 <= r["forecasters"]["model"]["intervals"]["coverage_80"]["coverage"] <= 0.83
            and 0.93 <= r["forecasters"]["model"]["intervals"]["coverage_95"]["coverage"] <= 0.97
        )
    ]
    both = sorted(set(wins[holdout.FHS]) & set(wins[holdout.GARCH_T]))
    return {"significant_losses": losses, "wins": wins, "wins_over_fhs_and_garch_t": both, "coverage_outside": coverage}
