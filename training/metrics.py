"""Forecast metrics and tests, always scored next to naive persistence (tomorrow = today).

Formulas follow Hyndman & Koehler (2006) for MASE, Christoffersen (1998) for interval coverage tests,
Diebold & Mariano (1995) with the Harvey, Leybourne & Newbold (1997) small-sample correction.
"""

from __future__ import annotations

import math

import numpy as np

from training.tables import CoverageTest, DMTest, IntervalScores, NaiveComparison, PointScores


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


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def chi2_1_sf(x: float) -> float:
    """P(X > x) for X ~ chi-squared with one degree of freedom."""
    return math.erfc(math.sqrt(max(x, 0.0) / 2.0))


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed exactly in log space."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    logs = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p) + (n - i) * math.log1p(-p)
        for i in range(k, n + 1)
    ]
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(v - top) for v in logs))


def direction_test(
    last: np.ndarray, actual: np.ndarray, forecast: np.ndarray, up_share: float
) -> dict[str, float | int | None]:
    """Hits of the predicted direction and the one-sided binomial p-value against guessing 'up' at up_share.

    The benchmark hit rate of a forecaster that ignores the data is max(up_share, 1 - up_share).
    """
    predicted, moved = np.sign(forecast - last), np.sign(actual - last)
    keep = (moved != 0) & (predicted != 0)
    n, hits = int(keep.sum()), int(np.sum(predicted[keep] == moved[keep]))
    baseline = max(up_share, 1.0 - up_share)
    return {
        "n": n,
        "hits": hits,
        "baseline": baseline,
        "p_value": binomial_sf(hits, n, baseline) if n else None,
    }


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


def xlogy(x: float, y: float) -> float:
    """x * log(y) with 0 * log(0) = 0."""
    return 0.0 if x == 0 else x * math.log(y)


def lr_unconditional(n: int, violations: int, alpha: float) -> float:
    """-2 log of (likelihood at the nominal violation rate / at the observed one)."""
    pi = violations / n
    null = xlogy(n - violations, 1 - alpha) + xlogy(violations, alpha)
    alt = xlogy(n - violations, 1 - pi) + xlogy(violations, pi)
    return -2.0 * (null - alt)


def lr_independence(hit: np.ndarray) -> float:
    """Christoffersen's first-order Markov test: do violations cluster?"""
    prev, cur = hit[:-1], hit[1:]
    n = {(a, b): int(np.sum((prev == a) & (cur == b))) for a in (0, 1) for b in (0, 1)}
    n0, n1 = n[0, 0] + n[0, 1], n[1, 0] + n[1, 1]
    pi01 = n[0, 1] / n0 if n0 else 0.0
    pi11 = n[1, 1] / n1 if n1 else 0.0
    pi = (n[0, 1] + n[1, 1]) / max(n0 + n1, 1)
    null = xlogy(n[0, 0] + n[1, 0], 1 - pi) + xlogy(n[0, 1] + n[1, 1], pi)
    alt = xlogy(n[0, 0], 1 - pi01) + xlogy(n[0, 1], pi01) + xlogy(n[1, 0], 1 - pi11) + xlogy(n[1, 1], pi11)
    return -2.0 * (null - alt)


def diebold_mariano(e_model: np.ndarray, e_other: np.ndarray, horizon: int = 1, power: int = 2) -> DMTest:
    """DM test of equal accuracy, loss |e|^power, HLN-corrected; negative statistic = model more accurate."""
    return diebold_mariano_losses(np.abs(e_model) ** power, np.abs(e_other) ** power, horizon)


def diebold_mariano_losses(loss_model: np.ndarray, loss_other: np.ndarray, horizon: int = 1) -> DMTest:
    """DM test on two per-day loss series (e.g. pinball), HLN-corrected; two-sided normal p-value."""
    d = np.asarray(loss_model, dtype=np.float64) - np.asarray(loss_other, dtype=np.float64)
    n = len(d)
    mean = float(d.mean())
    centred = d - mean
    var = float(np.sum(centred**2)) / n
    for lag in range(1, horizon):
        var += 2.0 * float(np.sum(centred[lag:] * centred[:-lag])) / n
    if var <= 0:
        return {"statistic": 0.0, "p_value": 1.0, "mean_loss_difference": mean}
    stat = mean / math.sqrt(var / n)
    stat *= math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return {"statistic": stat, "p_value": 2.0 * normal_sf(abs(stat)), "mean_loss_difference": mean}


DM_HAC_LAGS = 5  # Newey-West lags of the pinball DM tests: daily losses of volatility models are autocorrelated


def diebold_mariano_hac(loss_model: np.ndarray, loss_other: np.ndarray, lags: int = DM_HAC_LAGS) -> DMTest:
    """DM test on two per-day loss series with a Newey-West (Bartlett) long-run variance; two-sided normal p."""
    d = np.asarray(loss_model, dtype=np.float64) - np.asarray(loss_other, dtype=np.float64)
    n, mean = len(d), float(d.mean())
    centred = d - mean
    var = float(centred @ centred) / n
    for lag in range(1, min(lags, n - 1) + 1):
        var += 2.0 * (1.0 - lag / (lags + 1)) * float(centred[lag:] @ centred[:-lag]) / n
    if var <= 0:
        return {"statistic": 0.0, "p_value": 1.0, "mean_loss_difference": mean}
    stat = mean / math.sqrt(var / n)
    return {"statistic": stat, "p_value": 2.0 * normal_sf(abs(stat)), "mean_loss_difference": mean}


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the given order: reject where adjusted p < alpha (FWER alpha)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


DQ_LAGS = 4  # lagged hits in Engle and Manganelli's DQ regression


def dynamic_quantile_test(actual: np.ndarray, quantile: np.ndarray, level: float, lags: int = DQ_LAGS) -> float:
    """Engle & Manganelli (2004) DQ test of one quantile forecast: p-value of hits being unpredictable.

    Hit_t = 1[y_t < q_t] - level is regressed on a constant, Hit_{t-1..t-lags} and q_t; under a correct
    conditional quantile every coefficient is 0, and DQ = b'X'Xb / (level (1 - level)) ~ chi2(lags + 2).
    Pass returns (actual / last - 1 and quantile / last - 1), not prices: the regressors must be stationary.
    """
    from scipy.stats import chi2  # here: `install-default` and `--help` import this module without scipy

    hit = (actual < quantile).astype(np.float64) - level
    n = len(hit)
    columns = [np.ones(n - lags), *(hit[lags - k : n - k] for k in range(1, lags + 1)), quantile[lags:]]
    x, y = np.column_stack(columns), hit[lags:]
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    dq = float(beta @ x.T @ x @ beta) / (level * (1.0 - level))
    return float(chi2.sf(dq, x.shape[1]))


def score(last: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> PointScores:
    """MAE, RMSE, MAPE and directional accuracy of one point forecast."""
    return {
        "mae": mae(actual, forecast),
        "rmse": rmse(actual, forecast),
        "mape": mape(actual, forecast),
        "directional_accuracy": directional_accuracy(last, actual, forecast),
    }


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


class GateRefused(Exception):
    """A model failed the quality gate; nothing was published."""

    def __init__(self, problems: list[str], summary: list[str] | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.summary = summary or []  # the scores the gate judged, for the caller to show


# The gate a model must pass to ship (make serve's default, docker compose's, every retrain promotion).
MAX_MAE_RATIO = 1.02
KUPIEC_ALPHA = 0.05
MAX_PINBALL_RATIO = 1.02  # against GARCH(1,1)-t on the same days
MIN_PINBALL_IMPROVEMENT = 0.001  # a retrained challenger must beat the champion's pinball loss by 0.1%: ties keep it


def interval_gate_failures(model: IntervalScores, garch: IntervalScores) -> list[str]:
    """Why intervals must not ship: 80%/95% coverage rejected by Kupiec at 5%, or pinball > 1.02x GARCH-t's."""
    problems = []
    for level in ("80", "95"):
        found = model.get(f"coverage_{level}")
        if found is not None and found["uc_p_value"] < KUPIEC_ALPHA:
            problems.append(
                f"{level}% coverage {found['coverage']:.3f} rejected by Kupiec (p = {found['uc_p_value']:.3f} < "
                f"{KUPIEC_ALPHA})"
            )
    ratio = model["pinball_pct"] / garch["pinball_pct"]
    if ratio > MAX_PINBALL_RATIO:
        problems.append(f"pinball loss {ratio:.4f}x GARCH(1,1)-t's (limit {MAX_PINBALL_RATIO})")
    return problems


def gate_failures(model: PointScores, naive: PointScores) -> list[str]:
    """Why a point forecast must not ship: MAE worse than naive persistence's by more than 2%."""
    ratio = model["mae"] / naive["mae"]
    return [f"MAE is {ratio:.4f}x naive (limit {MAX_MAE_RATIO})"] if ratio > MAX_MAE_RATIO else []
