"""The walk-forward evaluation: the backtest of the model and its variants, scored, and the checks beside it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from training.core.config import TrainConfig
from training.core.data import FeatureSeries, load_training_data, make_feature_windows
from training.core.records import BacktestScores, CheckResults
from training.core.synthetic import synthetic_assets
from training.net.model import PriceForecaster
from training.net.train import predict, train
from training.scoring import metrics
from training.studies.backtest import Backtest, Forecasts, backtest, fold_split, interval_baselines
from training.studies.jobs import BacktestConfig, Checks
from training.studies.scores import score_backtest, score_days

log = logging.getLogger(__name__)


def cross_asset(result: Backtest, window: int, other: FeatureSeries, base: FeatureSeries) -> CheckResults:
    """The default variant's fold models on another series' windows on its own test days, next to naive
    and the interval baselines fitted on that series' past."""
    targets, point, quants = [], [], []
    for origin, stop, model in result.fold_models:
        days = base.dates[origin:stop]
        idx = np.minimum(np.searchsorted(other.dates, days), len(other) - 1)
        idx = idx[(other.dates[idx] == days) & (idx >= window)]  # days both series traded
        p, q = predict(model, other.values[idx[:, None] + np.arange(-window, 0)[None, :]][..., :1])
        targets.append(idx)
        point.append(p[:, 0])
        quants.append(q[:, 0, :])
    idx = np.concatenate(targets)
    levels = result.forecasts["model"].levels
    forecasts = {
        "model": Forecasts(np.concatenate(point), np.concatenate(quants), levels),
        "naive": Forecasts(other.prices[idx - 1]),
        **interval_baselines(other.prices, idx, levels, window),
    }
    return {"series": other.source, **score_days(other, idx, forecasts)}


MINMAX = "tutorial (global min-max)"


def out_of_range(cfg: TrainConfig, series: FeatureSeries, train_end: str, days: int) -> CheckResults:
    """Trains the default and the min-max model up to train_end; scores both where prices top that range."""
    end = int(np.searchsorted(series.dates, np.datetime64(train_end), side="right"))
    ceiling = float(series.prices[:end].max())
    above = np.flatnonzero(series.prices[end:] > ceiling) + end
    start = int(above[0]) if len(above) else end
    stop = min(start + days, len(series))
    rows = {}
    for name, normalize in ((f"model ({cfg.normalize} normalisation)", cfg.normalize), (MINMAX, "minmax")):
        run = replace(cfg, normalize=normalize, progress=False)
        split = fold_split(end, cfg.model.window, cfg.val_days, cfg.model.horizon, len(series))
        model = train(run, [(series, split)]).model
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
    """The same config on one price feature of one file (the first, or `data`)."""
    first = data or cfg.data[0]
    return replace(cfg, data=[first], features=["close"], extras={}, model=replace(cfg.model, features=1))


SYNTHETIC_HISTORY = 500  # days of each synthetic path before the first scored day (the baselines' history)


def synthetic(model: PriceForecaster, window: int, assets: list[FeatureSeries]) -> dict[str, dict]:
    """A trained model on simulated GARCH(1,1)-t assets it never saw, next to the interval baselines."""
    levels = tuple(model.net.quantile_levels)
    found = {}
    for series in assets:
        targets = np.arange(max(SYNTHETIC_HISTORY, window), len(series))
        x, _, _ = make_feature_windows(series.values, window, int(targets[0]), len(series))
        point, quantiles = predict(model, x)
        forecasts = {
            "model": Forecasts(point[:, 0], quantiles[:, 0, :], levels),
            "naive": Forecasts(series.prices[targets - 1]),
            **interval_baselines(series.prices, targets, levels, window),
        }
        found[series.source] = score_days(series, targets, forecasts)
    return found


@dataclass
class Evaluation:
    """Everything the report shows."""

    result: Backtest
    series: FeatureSeries
    scores: BacktestScores
    extra: CheckResults
    settings: dict[str, Any]


def default_variants(base: TrainConfig, cross: Path | None) -> dict[str, TrainConfig]:
    """The classic tutorial setup (a global min-max scaler, 4 x 50), and a multivariate model when a second series
    is given."""
    tutorial = univariate(base)
    tutorial_model = replace(tutorial.model, layers=4, hidden=50, head="free")
    variants = {"tutorial (min-max 4x50)": replace(tutorial, normalize="minmax", model=tutorial_model)}
    if cross:
        variants["multivariate"] = replace(
            univariate(base),
            features=["close", "volume", "hl_range", "cross_close"],
            extras={"cross": cross},
            model=replace(base.model, features=4),
        )
    return variants


def evaluate(bt: BacktestConfig, checks: Checks) -> Evaluation:
    """The walk-forward backtest of every forecaster, then the checks, scored."""
    all_series = load_training_data(bt.train)
    series = all_series[0]
    variant_series = {name: load_training_data(cfg) for name, cfg in bt.variants.items()}
    result = backtest(bt, all_series, variant_series)
    extra: dict[str, object] = {}
    window = bt.train.model.window
    if checks.cross and len(series.names) == 1:
        other = load_training_data(univariate(bt.train, checks.cross))[0]
        extra["cross_asset"] = cross_asset(result, window, other, series)
    if checks.synthetic and len(series.names) == 1:
        extra["synthetic"] = synthetic(result.fold_models[-1][2], window, synthetic_assets())
    if checks.oor_train_end:
        extra["out_of_range"] = out_of_range(univariate(bt.train), series, checks.oor_train_end, bt.holdout_days)
    settings = {
        "data": [s.source for s in all_series],
        "scored": series.source,
        "column": series.column,
        "years": bt.years,
        "holdout_days": bt.holdout_days,
        "refit_every": bt.refit_every,
        "fine_tune_epochs": bt.fine_tune_epochs,
        "window": window,
        "horizon": bt.train.model.horizon,
        "epochs": bt.train.epochs,
        "normalize": bt.train.normalize,
    }
    return Evaluation(result, series, score_backtest(result, series), extra, settings)
