"""Walk-forward (rolling-origin) backtest of the model, its variants and the free baselines, on the same days."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from training import baselines, holdout, metrics
from training.config import BacktestConfig, Checks, TrainConfig
from training.data import FeatureSeries, Split, load_training_data, make_feature_windows
from training.model import PriceForecaster
from training.synthetic import synthetic_assets
from training.tables import BacktestScores, CheckResults, Segment
from training.train import Dataset, predict, train

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


def score_segment(result: Backtest, series: FeatureSeries, mask: np.ndarray, in_sample: np.ndarray) -> Segment:
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
            row.update(interval_row(last, actual, f.quantiles[mask], f.levels))
        table[name] = row
    add_dm_vs_garch(table)
    return {
        "series": series.source,
        "days": int(mask.sum()),
        "start": str(series.dates[targets[0]]),
        "end": str(series.dates[targets[-1]]),
        "up_share": up_share,
        "always_up_accuracy": baselines.always_up_accuracy(series.prices, targets),
        "forecasters": table,
    }


def interval_row(
    last: np.ndarray, actual: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...]
) -> dict[str, Any]:
    """Interval scores (in % of price too), calibration per level and each day's pinball loss."""
    return {
        "intervals": metrics.interval_scores(actual, quantiles, levels, last),
        "calibration": [float(np.mean(actual <= quantiles[:, i])) for i in range(len(levels))],
        "pinball_by_day": metrics.relative_pinball_by_day(last, actual, quantiles, np.array(levels)),
    }


def add_dm_vs_garch(table: dict[str, dict]) -> None:
    """Each interval forecaster's Diebold-Mariano test of pinball loss against GARCH-t's; drops daily losses."""
    garch = table.get(GARCH, {}).get("pinball_by_day")
    for name, row in table.items():
        daily = row.pop("pinball_by_day", None)
        if daily is not None and garch is not None and name != GARCH:
            row["dm_pinball_vs_garch"] = metrics.diebold_mariano_losses(daily, garch)
    if GARCH in table:
        table[GARCH].pop("pinball_by_day", None)


def step_maes(prices: np.ndarray, targets: np.ndarray, by_step: np.ndarray) -> list[dict[str, float]]:
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


def score_backtest(result: Backtest, series: FeatureSeries) -> BacktestScores:
    """The walk-forward period and the final hold-out, scored separately."""
    in_sample = series.prices[: result.targets[0]]
    holdout = result.targets >= result.holdout_start
    return {
        "walk_forward": score_segment(result, series, ~holdout, in_sample),
        "holdout": score_segment(result, series, holdout, in_sample),
        "all": score_segment(result, series, np.ones_like(holdout), in_sample),
    }


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


def score_days(series: FeatureSeries, targets: np.ndarray, forecasts: dict[str, Forecasts]) -> Segment:
    """Point and interval scores of several forecasters on the same target days of one series."""
    actual, last = series.prices[targets], series.prices[targets - 1]
    table: dict[str, dict] = {}
    for name, f in forecasts.items():
        row: dict[str, object] = dict(metrics.score(last, actual, f.point))
        if name != "naive":
            row["dm_vs_naive"] = metrics.diebold_mariano(actual - f.point, actual - last)
        if f.quantiles is not None:
            row.update(interval_row(last, actual, f.quantiles, f.levels))
        table[name] = row
    add_dm_vs_garch(table)
    return {
        "days": len(targets),
        "start": str(series.dates[targets[0]]),
        "end": str(series.dates[targets[-1]]),
        "forecasters": table,
    }


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
