"""Scores of a backtest's days: every forecaster's point and interval metrics, DM tests vs naive and GARCH-t."""

from __future__ import annotations

from typing import Any

import numpy as np

from training.core.data import FeatureSeries
from training.core.records import BacktestScores, Segment
from training.scoring import baselines, metrics, significance
from training.studies.backtest import GARCH, Backtest, Forecasts


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
            "direction": significance.direction_test(last, actual, point, up_share),
        }
        if name != "naive":
            row["dm_vs_naive"] = significance.diebold_mariano(actual - point, naive_err)
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
            row["dm_pinball_vs_garch"] = significance.diebold_mariano_losses(daily, garch)
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


def score_days(series: FeatureSeries, targets: np.ndarray, forecasts: dict[str, Forecasts]) -> Segment:
    """Point and interval scores of several forecasters on the same target days of one series."""
    actual, last = series.prices[targets], series.prices[targets - 1]
    table: dict[str, dict] = {}
    for name, f in forecasts.items():
        row: dict[str, object] = dict(metrics.score(last, actual, f.point))
        if name != "naive":
            row["dm_vs_naive"] = significance.diebold_mariano(actual - f.point, actual - last)
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
