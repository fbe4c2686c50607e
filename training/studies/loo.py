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
from training.net.lengths import checked_lengths
from training.scoring import holdout, metrics, significance
from training.scoring.baselines import FIT_DAYS
from training.studies import speed

log = logging.getLogger(__name__)

MAX_DAYS = 2500  # the newest days scored per series (at least MIN_DAYS, as history allows)
MIN_DAYS = 500
LONGEST_WINDOW = 1000  # every length and variant is scored on the same days: room for the longest window read
STRONGEST = (holdout.FHS, holdout.GARCH_T, holdout.GJR)
FAMILY = holdout.FAMILY  # the Bayes reader of the shortest window that knows the model family
SHORT_YARDSTICKS = (holdout.FHS, FAMILY)  # what reads the same short window: the model must not lose to them
MARGIN = 0.01  # ... and stay within 1% of the GARCHs, which read 1,000 days
ALPHA = 0.05


@dataclass(frozen=True)
class Fold:
    """One training run and the series it is scored on (which it never saw)."""

    name: str
    config: TrainConfig
    scored: list[str]  # sources of the scored series


def scored_targets(series: FeatureSeries) -> np.ndarray:
    """The newest min(2,500, what the history allows) target days, leaving each GARCH its 1,000 returns and
    every window length its prices."""
    days = min(MAX_DAYS, len(series) - max(FIT_DAYS + 1, LONGEST_WINDOW))
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


def protocol_lengths(config: TrainConfig) -> list[int]:
    """The posted lengths every series is scored at: the shortest, a year's and the longest the model reads."""
    return checked_lengths(config.model.window, min(config.model.max_window, LONGEST_WINDOW))


@dataclass
class FoldResult:
    """A fold model's quantiles on its scored days at each length, how long it trained, its ONNX speeds."""

    quantiles: dict[int, dict[str, np.ndarray]]
    train_seconds: float
    windows_per_second: dict[int, float]  # at the shortest and the longest length


def fit_and_forecast(config: TrainConfig, scored: list[FeatureSeries]) -> FoldResult:
    """Trains one fold's model (one thread: folds run side by side) and forecasts the scored days at every
    protocol length."""
    from training.core.universe import load_universe
    from training.net.train import predict, split_all, train

    config = replace(config, threads=1, progress=False)
    started = time.monotonic()
    model = train(config, split_all(config, load_universe(config))).model
    seconds = time.monotonic() - started
    lengths = protocol_lengths(config)
    found: dict[int, dict[str, np.ndarray]] = {n: {} for n in lengths}
    for series in scored:
        targets = scored_targets(series)
        for n in lengths:
            x, _, _ = make_feature_windows(series.values, n, int(targets[0]), len(series))
            found[n][series.source] = predict(model, x)[1][:, 0, :]
    speeds = {n: speed.onnx_speed(model, config, n) for n in (lengths[0], lengths[-1])}
    return FoldResult(found, seconds, speeds)


def family_forecasts(series: FeatureSeries, levels: tuple[float, ...], window: int, cache: Path) -> np.ndarray:
    """The family reader's quantiles (even prior over asset types) on a series' scored days, cached."""
    from training.studies import family_reader  # it builds on this module

    targets = scored_targets(series)
    key = hashlib.sha256(series.prices.tobytes() + repr(("family", targets[0], levels, window)).encode())
    path = cache / f"{key.hexdigest()[:20]}.npy"
    if path.is_file():
        return np.load(path)
    found = family_reader.reader_prices(series, targets, levels, window)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, found)
    return found


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
    against = [o for o in (*STRONGEST, FAMILY) if o in forecasts]
    dm = {other: significance.diebold_mariano_hac(daily["model"], daily[other]) for other in against}
    return {
        "series": series.source,
        "days": len(targets),
        "start": str(series.dates[targets[0]]),
        "end": str(series.dates[targets[-1]]),
        "forecasters": rows,
        "dm": dm,
        "ratio": {other: float(daily["model"].mean() / daily[other].mean()) for other in against},
    }


def add_holm(rows: list[dict[str, Any]]) -> None:
    """Holm-adjusted p-values across series, one family per baseline."""
    for other in rows[0]["dm"] if rows else ():
        adjusted = significance.holm([r["dm"][other]["p_value"] for r in rows])
        for r, p in zip(rows, adjusted, strict=True):
            r["dm"][other]["p_holm"] = p


@dataclass
class Outcome:
    """The protocol's rows at each posted length, one per held-out series, and the cost of the model trained on
    everything (`rows` and `windows_per_second`: at the shortest length)."""

    by_length: dict[int, list[dict[str, Any]]]
    train_seconds: float
    speeds: dict[int, float]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.by_length[min(self.by_length)]

    @property
    def windows_per_second(self) -> float:
        return self.speeds[min(self.speeds)]


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
    levels, lengths = config.model.quantiles, protocol_lengths(config)
    workers = jobs or len(os.sched_getaffinity(0))
    started = time.monotonic()
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        pending: list[tuple[Fold, Future[FoldResult]]] = [
            (fold, pool.submit(fit_and_forecast, fold.config, [by_source[s] for s in fold.scored]))
            for fold in folds(config, real, simulated)
        ]
        base = {(s, n): baseline_forecasts(x, levels, n, cache) for s, x in by_source.items() for n in lengths}
        family = {s: family_forecasts(x, levels, lengths[0], cache) for s, x in by_source.items()}
        by_length: dict[int, list[dict[str, Any]]] = {n: [] for n in lengths}
        result = None
        for fold, future in pending:
            result = future.result()
            for n, found in result.quantiles.items():
                for source, quantiles in found.items():
                    shortest = {FAMILY: family[source]} if n == lengths[0] else {}
                    forecasts = {"model": quantiles, **base[(source, n)], **shortest}
                    by_length[n].append(series_row(by_source[source], forecasts, levels))
            log.info("%s: done (%.0f s since start)", fold.name, time.monotonic() - started)
    for rows in by_length.values():
        add_holm(rows)
    assert result is not None  # the last fold trains on everything
    return Outcome(by_length, result.train_seconds, result.windows_per_second)


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
