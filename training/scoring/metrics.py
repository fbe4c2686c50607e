"""Forecast metrics and tests, always scored next to naive persistence (tomorrow = today).

Formulas follow Hyndman & Koehler (2006) for MASE, Christoffersen (1998) for interval coverage tests,
Diebold & Mariano (1995) with the Harvey, Leybourne & Newbold (1997) small-sample correction.
"""

from __future__ import annotations

import numpy as np

from training.core.records import CoverageTest, IntervalScores, NaiveComparison, PointScores
from training.scoring.significance import chi2_1_sf, lr_independence, lr_unconditional


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(actual - forecast)))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute percentage error, in percent."""
    return float(np.mean(np.abs((actual - forecast) / actual)) * 100.0)


def mase(actual: np.ndarray, forecast: np.ndarray, in_sample: np.ndarray) -> float:
    """MAE scaled by the in-sample one-step naive MAE (mean |p_t - p_{t-1}| over the training prices)."""
    return mae(actual, forecast) / float(np.mean(np.abs(np.diff(in_sample))))


def directional_accuracy(last: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> float | None:
    """Share of days where the forecast's move from the last price has the actual move's sign.

    Days without an actual move are left out; None when the forecast never predicts a move
    (naive persistence), since its direction is undefined rather than always wrong.
    """
    predicted, moved = np.sign(forecast - last), np.sign(actual - last)
    keep = moved != 0
    if not np.any(predicted[keep] != 0):
        return None
    return float(np.mean(predicted[keep] == moved[keep]))


def pinball_by_day(actual: np.ndarray, quantiles: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """(N,) pinball loss of each day, averaged over levels: tau*(y-q) when y >= q, else (1-tau)*(q-y)."""
    u = actual[:, None] - quantiles  # (N, Q)
    return np.mean(np.where(u >= 0, levels * u, (levels - 1) * u), axis=1)


def pinball(actual: np.ndarray, quantiles: np.ndarray, levels: np.ndarray) -> float:
    """Mean pinball loss over days and levels. Lower is better."""
    return float(np.mean(pinball_by_day(actual, quantiles, np.asarray(levels))))


def relative_pinball_by_day(
    last: np.ndarray, actual: np.ndarray, quantiles: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """(N,) pinball loss in % of the last price: comparable across assets and price levels."""
    return pinball_by_day(actual / last, quantiles / last[:, None], np.asarray(levels)) * 100.0


def winkler(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float) -> np.ndarray:
    """(N,) Winkler interval score: width plus 2/alpha times the miss (Winkler 1972). Lower is better."""
    alpha = 1.0 - level
    below, above = np.maximum(lower - actual, 0.0), np.maximum(actual - upper, 0.0)
    return (upper - lower) + (2.0 / alpha) * (below + above)


def score(last: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> PointScores:
    """MAE, RMSE, MAPE and directional accuracy of one point forecast."""
    return {
        "mae": mae(actual, forecast),
        "rmse": rmse(actual, forecast),
        "mape": mape(actual, forecast),
        "directional_accuracy": directional_accuracy(last, actual, forecast),
    }


def coverage_test(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float, last: np.ndarray | None = None
) -> CoverageTest:
    """Coverage of [lower, upper], Kupiec's unconditional and Christoffersen's independence LR tests, widths."""
    hit = ((actual < lower) | (actual > upper)).astype(int)  # 1 = a violation
    n, v = len(hit), int(hit.sum())
    alpha = 1.0 - level
    found: CoverageTest = {
        "level": level,
        "coverage": 1.0 - v / n,
        "mean_width": float(np.mean(upper - lower)),
        "violations": v,
        "n": n,
        "uc_p_value": chi2_1_sf(lr_unconditional(n, v, alpha)),
        "ind_p_value": chi2_1_sf(lr_independence(hit)),
    }
    if last is not None:
        found["mean_width_pct"] = float(np.mean((upper - lower) / last) * 100)
        found["winkler_pct"] = float(np.mean(winkler(actual / last, lower / last, upper / last, level)) * 100)
    return found


def interval_scores(
    actual: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...], last: np.ndarray | None = None
) -> IntervalScores:
    """Coverage of every central interval the levels allow (e.g. 0.1/0.9 -> 80%) and the pinball loss;
    with `last`, also pinball, widths and the Winkler score in % of the last price."""
    result: IntervalScores = {"pinball": pinball(actual, quantiles, np.array(levels))}
    if last is not None:
        result["pinball_pct"] = float(np.mean(relative_pinball_by_day(last, actual, quantiles, np.array(levels))))
    for i, low in enumerate(levels):
        high = round(1.0 - low, 6)
        if low < 0.5 and high in levels:
            level = round(high - low, 6)
            result[f"coverage_{round(level * 100)}"] = coverage_test(
                actual, quantiles[:, i], quantiles[:, levels.index(high)], level, last
            )
    return result


def compare_with_naive(
    last: np.ndarray,
    actual: np.ndarray,
    forecast: np.ndarray,
    quantiles: np.ndarray | None = None,
    levels: tuple[float, ...] = (),
) -> NaiveComparison:
    """The model's and naive persistence's scores on the same days, the MAE ratio, and interval scores."""
    model, naive = score(last, actual, forecast), score(last, actual, last)
    moved = actual != last
    result: NaiveComparison = {
        "days": len(actual),
        "model": model,
        "naive": naive,
        "mae_ratio": float(model["mae"] / naive["mae"]) if naive["mae"] and model["mae"] is not None else None,
        "up_share": float(np.mean(actual[moved] > last[moved])) if moved.any() else None,
    }
    if quantiles is not None:
        result["intervals"] = interval_scores(actual, quantiles, levels)
    return result
