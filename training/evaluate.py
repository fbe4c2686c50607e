"""Walk-forward (rolling-origin) backtest of the model, its variants and the free baselines, on the same days."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from training import baselines, metrics
from training.data import FeatureSeries, Split, make_feature_windows
from training.model import PriceForecaster
from training.train import TrainConfig, predict, train

log = logging.getLogger(__name__)


@dataclass
class BacktestConfig:
    """The backtest's period and refit schedule, and the model variants compared."""

    train: TrainConfig
    years: float = 2.0  # walk-forward period before the hold-out, in years of 252 trading days
    holdout_days: int = 250  # the final hold-out, never looked at while choosing any setting
    refit_every: int = 126  # trading days between refits (K)
    fine_tune_epochs: int = 4  # later folds fine-tune the previous fold's model for this many epochs
    variants: dict[str, TrainConfig] = field(default_factory=dict)  # name -> config, besides "model"


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


def run_variant(cfg: TrainConfig, series: FeatureSeries, bt: BacktestConfig, days: np.ndarray) -> tuple:
    """Refits (first fold from scratch, later ones fine-tuned) and forecasts each fold's target days."""
    horizon = cfg.model.horizon
    cuts = [int(np.searchsorted(series.dates, d)) for d in days]
    stops = [*cuts[1:], len(series) - (horizon - 1)]
    points, quants, steps, models = [], [], [], []
    model: PriceForecaster | None = None
    for i, (origin, stop) in enumerate(zip(cuts, stops, strict=True)):
        split = fold_split(origin, cfg.model.window, cfg.val_days, horizon, len(series))
        run_cfg = cfg if model is None else replace(cfg, epochs=bt.fine_tune_epochs, progress=False)
        model = train(run_cfg, series, split, start_from=model).model
        x, _, _ = make_feature_windows(series.values, cfg.model.window, origin, stop, horizon)
        point, q = predict(model, x)
        points.append(point[:, 0])
        quants.append(q[:, 0, :])
        steps.append(point)
        models.append((origin, stop, copy.deepcopy(model)))
        log.info("fold %d/%d: origin %s, %d test days", i + 1, len(cuts), series.dates[origin], stop - origin)
    return np.concatenate(points), np.concatenate(quants), np.concatenate(steps), models


def baseline_forecasts(prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...]) -> dict[str, Forecasts]:
    """Naive, drift, EWMA point forecasts and the two naive interval baselines."""
    last = baselines.naive(prices, targets)
    return {
        "naive": Forecasts(last),
        "drift": Forecasts(baselines.drift(prices, targets)),
        "ewma": Forecasts(baselines.ewma(prices, targets)),
        "naive + gaussian 60d vol": Forecasts(last, baselines.gaussian_quantiles(prices, targets, levels), levels),
        "naive + empirical 250d": Forecasts(last, baselines.empirical_quantiles(prices, targets, levels), levels),
    }


def backtest(bt: BacktestConfig, series: FeatureSeries, variant_series: dict[str, FeatureSeries]) -> Backtest:
    """Runs every forecaster over the same origins and target days."""
    horizon = bt.train.model.horizon
    cuts = origins(len(series), bt, horizon)
    days = series.dates[cuts]
    targets = np.arange(cuts[0], len(series) - (horizon - 1))
    levels = bt.train.model.quantiles
    point, quants, steps, models = run_variant(bt.train, series, bt, days)
    found = {"model": Forecasts(point, quants, levels, steps), **baseline_forecasts(series.prices, targets, levels)}
    for name, cfg in bt.variants.items():
        other = variant_series[name]
        p, q, _, _ = run_variant(cfg, other, bt, days)
        index = np.searchsorted(other.dates, series.dates[targets])  # same target days
        keep = index - int(np.searchsorted(other.dates, series.dates[targets[0]]))
        found[name] = Forecasts(p[keep], q[keep], cfg.model.quantiles)
    return Backtest(targets, len(series) - bt.holdout_days, found, models)


def score_segment(result: Backtest, series: FeatureSeries, mask: np.ndarray, in_sample: np.ndarray) -> dict:
    """Every metric of every forecaster on the target days selected by `mask`."""
    targets = result.targets[mask]
    actual, last = series.prices[targets], series.prices[targets - 1]
    naive_err = actual - last
    moved = actual != last
    up_share = float(np.mean(actual[moved] > last[moved]))
    table: dict[str, dict] = {}
    for name, f in result.forecasts.items():
        point = f.point[mask]
        row: dict[str, object] = {
            **metrics.score(last, actual, point),
            "mase": metrics.mase(actual, point, in_sample),
            "return_mae": metrics.mae(np.log(actual / last), np.log(point / last)),
            "return_rmse": metrics.rmse(np.log(actual / last), np.log(point / last)),
            "direction": metrics.direction_test(last, actual, point, up_share),
        }
        if name != "naive":
            row["dm_vs_naive"] = metrics.diebold_mariano(actual - point, naive_err)
        if f.by_step is not None and f.by_step.shape[1] > 1:
            row["mae_by_step"] = step_maes(series.prices, targets, f.by_step[mask])
        if f.quantiles is not None:
            row["intervals"] = metrics.interval_scores(actual, f.quantiles[mask], f.levels)
            row["calibration"] = [float(np.mean(actual <= f.quantiles[mask][:, i])) for i in range(len(f.levels))]
        table[name] = row
    return {
        "days": int(mask.sum()),
        "start": str(series.dates[targets[0]]),
        "end": str(series.dates[targets[-1]]),
        "up_share": up_share,
        "always_up_accuracy": baselines.always_up_accuracy(series.prices, targets),
        "forecasters": table,
    }


def step_maes(prices: np.ndarray, targets: np.ndarray, by_step: np.ndarray) -> list[dict]:
    """MAE of the model and of naive (the last price known at the origin) for each step ahead."""
    last = prices[targets - 1]
    return [
        {
            "step": h + 1,
            "model": metrics.mae(prices[targets + h], by_step[:, h]),
            "naive": metrics.mae(prices[targets + h], last),
        }
        for h in range(by_step.shape[1])
    ]


def score_backtest(result: Backtest, series: FeatureSeries) -> dict:
    """The walk-forward period and the final hold-out, scored separately."""
    in_sample = series.prices[: result.targets[0]]
    holdout = result.targets >= result.holdout_start
    return {
        "walk_forward": score_segment(result, series, ~holdout, in_sample),
        "holdout": score_segment(result, series, holdout, in_sample),
        "all": score_segment(result, series, np.ones_like(holdout), in_sample),
    }


def cross_asset(result: Backtest, window: int, other: FeatureSeries, base: FeatureSeries) -> dict:
    """The default variant's fold models, each scored on another series' windows on its own test days."""
    actual, last, point = [], [], []
    for origin, stop, model in result.fold_models:
        days = base.dates[origin:stop]
        idx = np.minimum(np.searchsorted(other.dates, days), len(other) - 1)
        idx = idx[(other.dates[idx] == days) & (idx >= window)]  # days both series traded
        x = other.values[idx[:, None] + np.arange(-window, 0)[None, :], 0]
        point.append(predict(model, x[..., None])[0][:, 0])
        actual.append(other.prices[idx])
        last.append(other.prices[idx - 1])
    a, p, lst = np.concatenate(actual), np.concatenate(point), np.concatenate(last)
    return {
        "series": other.source,
        "days": len(a),
        **metrics.compare_with_naive(lst, a, p),
        "dm_vs_naive": metrics.diebold_mariano(a - p, a - lst),
    }


def out_of_range(cfg: TrainConfig, series: FeatureSeries, train_end: str, days: int) -> dict:
    """Trains the default and the min-max model up to train_end; scores both where prices top that range."""
    end = int(np.searchsorted(series.dates, np.datetime64(train_end), side="right"))
    ceiling = float(series.prices[:end].max())
    above = np.flatnonzero(series.prices[end:] > ceiling) + end
    start = int(above[0]) if len(above) else end
    stop = min(start + days, len(series))
    rows = {}
    for name, normalize in (("model (window normalisation)", "window"), ("tutorial (global min-max)", "minmax")):
        run = replace(cfg, normalize=normalize, progress=False)
        split = fold_split(end, cfg.model.window, cfg.val_days, cfg.model.horizon, len(series))
        model = train(run, series, split).model
        x, y, _ = make_feature_windows(series.values, cfg.model.window, start, stop, 1)
        point = predict(model, x)[0][:, 0]
        rows[name] = metrics.compare_with_naive(x[:, -1, 0], y[:, 0], point)
    return {
        "train_end": str(series.dates[end - 1]),
        "training_max": ceiling,
        "test_start": str(series.dates[start]),
        "test_end": str(series.dates[stop - 1]),
        "share_above_training_max": float(np.mean(series.prices[start:stop] > ceiling)),
        "models": rows,
    }


def univariate(cfg: TrainConfig, data: Path | None = None) -> TrainConfig:
    """The same config on one price feature (optionally of another file)."""
    return replace(cfg, data=data or cfg.data, features=["close"], extras={}, model=replace(cfg.model, features=1))
