"""Significance tests of forecasts: coverage (Kupiec, Christoffersen), Diebold-Mariano, Holm, the DQ test, direction."""

from __future__ import annotations

import math

import numpy as np

from training.core.records import DMTest


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
