"""The walk-forward (rolling-origin) backtest: folds refitted on data before each origin, forecasts until the next."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, replace

import numpy as np

from training.core.config import TrainConfig
from training.core.data import FeatureSeries, Split, make_feature_windows
from training.net.model import PriceForecaster
from training.net.train import Dataset, predict, train
from training.scoring import baselines, holdout
from training.studies.jobs import BacktestConfig

log = logging.getLogger(__name__)

# points (N,), quantiles (N, Q), every step (N, h), and the fold models (origin, stop, model)
VariantRun = tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int, PriceForecaster]]]


@dataclass
class Forecasts:
    """One forecaster's next-day forecasts on the backtest's target days."""

    point: np.ndarray  # (N,)
    quantiles: np.ndarray | None = None  # (N, Q)
    levels: tuple[float, ...] = ()
    by_step: np.ndarray | None = None  # (N, h) for multi-day models


@dataclass
class Backtest:
    """Everything scored: target indices (into the base series), per-forecaster outputs, the fold models."""

    targets: np.ndarray
    holdout_start: int
    forecasts: dict[str, Forecasts]
    fold_models: list[tuple[int, int, PriceForecaster]]  # (origin, stop, model) of the default variant


def origins(n: int, cfg: BacktestConfig, horizon: int) -> list[int]:
    """Refit days from the start of the walk-forward period to the end of the series."""
    first = n - cfg.holdout_days - int(cfg.years * 252) - (horizon - 1)
    return list(range(first, n - (horizon - 1), cfg.refit_every))


def fold_split(origin: int, window: int, val_days: int, horizon: int, n: int) -> Split:
    """Training and validation targets end `horizon` days before the origin (the gap); nothing later is used."""
    test_start = origin - horizon
    return Split(window=window, val_start=test_start - val_days, test_start=test_start, n=n)


def fold_datasets(cfg: TrainConfig, series: list[FeatureSeries], day: np.datetime64) -> list[Dataset]:
    """Every series cut at the same origin day: nothing on or after it is fitted."""
    horizon = cfg.model.horizon
    return [
        (s, fold_split(int(np.searchsorted(s.dates, day)), cfg.model.window, cfg.val_days, horizon, len(s)))
        for s in series
    ]


def run_variant(cfg: TrainConfig, series: list[FeatureSeries], bt: BacktestConfig, days: np.ndarray) -> VariantRun:
    """Refits (first fold from scratch, later ones fine-tuned) on every series; forecasts the first one's
    target days of each fold."""
    horizon, scored = cfg.model.horizon, series[0]
    cuts = [int(np.searchsorted(scored.dates, d)) for d in days]
    stops = [*cuts[1:], len(scored) - (horizon - 1)]
    points, quants, steps, models = [], [], [], []
    model: PriceForecaster | None = None
    for i, (day, origin, stop) in enumerate(zip(days, cuts, stops, strict=True)):
        run_cfg = cfg if model is None else replace(cfg, epochs=bt.fine_tune_epochs, progress=False)
        model = train(run_cfg, fold_datasets(cfg, series, day), start_from=model).model
        x, _, _ = make_feature_windows(scored.values, cfg.model.window, origin, stop, horizon)
        point, q = predict(model, x)
        points.append(point[:, 0])
        quants.append(q[:, 0, :])
        steps.append(point)
        models.append((origin, stop, copy.deepcopy(model)))
        log.info("fold %d/%d: origin %s, %d test days", i + 1, len(cuts), scored.dates[origin], stop - origin)
    return np.concatenate(points), np.concatenate(quants), np.concatenate(steps), models


GARCH = holdout.GARCH_T


def interval_baselines(
    prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...], window: int
) -> dict[str, Forecasts]:
    """The interval baselines, centred on the last price: the strongest simple methods (GARCH-t and
    GJR-skew-t refitted every 250 days on the 1,000 returns before, FHS on the posted window, EWMA) and two
    plain ones."""
    last = baselines.naive(prices, targets)
    strongest = holdout.series_baselines(prices, targets, levels, window)
    return {
        **{name: Forecasts(last, q, levels) for name, q in strongest.items()},
        "naive + Gaussian 60d": Forecasts(last, baselines.gaussian_quantiles(prices, targets, levels), levels),
        "naive + empirical 250d": Forecasts(last, baselines.empirical_quantiles(prices, targets, levels), levels),
    }


def baseline_forecasts(
    prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...], window: int
) -> dict[str, Forecasts]:
    """Naive, drift, EWMA point forecasts and the interval baselines."""
    return {
        "naive": Forecasts(baselines.naive(prices, targets)),
        "drift": Forecasts(baselines.drift(prices, targets)),
        "ewma": Forecasts(baselines.ewma(prices, targets)),
        **interval_baselines(prices, targets, levels, window),
    }


def backtest(
    bt: BacktestConfig, all_series: list[FeatureSeries], variant_series: dict[str, list[FeatureSeries]]
) -> Backtest:
    """Runs every forecaster over the same origins and target days of the first series."""
    horizon, series = bt.train.model.horizon, all_series[0]
    cuts = origins(len(series), bt, horizon)
    days = series.dates[cuts]
    targets = np.arange(cuts[0], len(series) - (horizon - 1))
    levels = bt.train.model.quantiles
    point, quants, steps, models = run_variant(bt.train, all_series, bt, days)
    found = {
        "model": Forecasts(point, quants, levels, steps),
        **baseline_forecasts(series.prices, targets, levels, bt.train.model.window),
    }
    for name, cfg in bt.variants.items():
        other = variant_series[name][0]
        p, q, _, _ = run_variant(cfg, variant_series[name], bt, days)
        index = np.searchsorted(other.dates, series.dates[targets])  # same target days
        keep = index - int(np.searchsorted(other.dates, series.dates[targets[0]]))
        found[name] = Forecasts(p[keep], q[keep], cfg.model.quantiles)
    return Backtest(targets, len(series) - bt.holdout_days, found, models)
