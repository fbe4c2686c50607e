"""Forecasts a user gets for free, computed only from prices before each target day.

Interval baselines are centred on the last price (naive) with a spread from: a 60-day Gaussian, the
empirical 250-day quantiles, EWMA (RiskMetrics, lambda 0.94) Gaussian, filtered historical simulation
(empirical quantiles of EWMA-standardised returns) and GARCH(1,1) with Student-t innovations fitted by
the `arch` package, refitted at each origin on returns before it.
"""

from __future__ import annotations

import math
import warnings
from statistics import NormalDist

import numpy as np
from arch import arch_model
from arch.univariate.base import ARCHModelResult

EWMA_SPAN = 10
VOL_DAYS = 60
EMPIRICAL_DAYS = 250
RISKMETRICS_LAMBDA = 0.94
EWMA_SEED_DAYS = 30  # the first variance is the mean square of the first 30 returns
FHS_DAYS = 500  # standardised returns behind each filtered-historical-simulation quantile


def naive(prices: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Tomorrow = today: the last price before each target."""
    return prices[targets - 1]


def drift(prices: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Last price times exp(mean daily log-return of all history before the target)."""
    returns = np.diff(np.log(prices))
    cumulative = np.concatenate([[0.0], np.cumsum(returns)])  # cumulative[t] = sum of returns[:t]
    mean = cumulative[targets - 1] / np.maximum(targets - 1, 1)
    return prices[targets - 1] * np.exp(mean)


def ewma(prices: np.ndarray, targets: np.ndarray, span: int = EWMA_SPAN) -> np.ndarray:
    """Exponentially weighted moving average of prices up to the day before each target."""
    alpha = 2.0 / (span + 1.0)
    smoothed = np.empty_like(prices)
    smoothed[0] = prices[0]
    for t in range(1, len(prices)):
        smoothed[t] = alpha * prices[t] + (1 - alpha) * smoothed[t - 1]
    return smoothed[targets - 1]


def past_returns(prices: np.ndarray, targets: np.ndarray, days: int) -> np.ndarray:
    """(N, days) daily log-returns ending the day before each target."""
    returns = np.diff(np.log(prices))  # returns[i] = log(p[i+1]/p[i])
    idx = (targets - 2)[:, None] - np.arange(days)[::-1][None, :]
    return returns[np.clip(idx, 0, None)]


def gaussian_quantiles(prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Naive with a zero-mean Gaussian from 60-day realised volatility: (N, Q) price quantiles."""
    sigma = past_returns(prices, targets, VOL_DAYS).std(axis=1, ddof=1)
    return prices[targets - 1][:, None] * np.exp(sigma[:, None] * normal_z(levels)[None, :])


def empirical_quantiles(prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Naive with the empirical quantiles of the last 250 daily returns: (N, Q) price quantiles."""
    returns = past_returns(prices, targets, EMPIRICAL_DAYS)
    q = np.quantile(returns, levels, axis=1).T  # (N, Q)
    return prices[targets - 1][:, None] * np.exp(q)


def log_returns(prices: np.ndarray) -> np.ndarray:
    """returns[i] = log(prices[i + 1] / prices[i])."""
    return np.diff(np.log(prices))


def ewma_variance(returns: np.ndarray, lam: float = RISKMETRICS_LAMBDA) -> np.ndarray:
    """variance[i]: the forecast of returns[i]**2 from returns[:i] (RiskMetrics recursion); len(returns) + 1."""
    variance = np.empty(len(returns) + 1)
    variance[0] = np.mean(returns[:EWMA_SEED_DAYS] ** 2)
    for i, r in enumerate(returns):
        variance[i + 1] = lam * variance[i] + (1 - lam) * r * r
    return variance


def normal_z(levels: tuple[float, ...]) -> np.ndarray:
    """Standard normal quantiles of the levels."""
    return np.array([NormalDist().inv_cdf(q) for q in levels])


def ewma_gaussian_quantiles(prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Naive with a zero-mean Gaussian of RiskMetrics EWMA variance: (N, Q) price quantiles."""
    sigma = np.sqrt(ewma_variance(log_returns(prices))[targets - 1])
    return prices[targets - 1][:, None] * np.exp(sigma[:, None] * normal_z(levels)[None, :])


def fhs_quantiles(prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Filtered historical simulation: empirical quantiles of the last 500 EWMA-standardised returns."""
    returns = log_returns(prices)
    sigma = np.sqrt(ewma_variance(returns))
    standardised = returns / sigma[:-1]  # each return over the sigma forecast made before it
    idx = (targets - 2)[:, None] - np.arange(FHS_DAYS)[::-1][None, :]
    past = standardised[np.clip(idx, EWMA_SEED_DAYS, None)]
    q = np.quantile(past, levels, axis=1).T  # (N, Q)
    return prices[targets - 1][:, None] * np.exp(sigma[targets - 1][:, None] * q)


def garch_t_fit(returns_pct: np.ndarray, last_obs: int) -> ARCHModelResult:
    """GARCH(1,1), zero mean, Student-t innovations, fitted on returns_pct[:last_obs] (in percent)."""
    model = arch_model(returns_pct, mean="Zero", vol="GARCH", p=1, q=1, dist="t", rescale=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the fit is checked by its parameters
        return model.fit(last_obs=last_obs, disp="off", show_warning=False)


def garch_t_quantiles(
    prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...], origins: list[int] | None = None
) -> np.ndarray:
    """Naive with GARCH(1,1)-t quantiles, refitted at each origin on all returns before it: (N, Q)."""
    returns = log_returns(prices) * 100
    origins = sorted(origins or [int(targets[0])])
    out = np.empty((len(targets), len(levels)))
    for i, origin in enumerate(origins):
        stop = origins[i + 1] if i + 1 < len(origins) else int(targets[-1]) + 1
        pick = (targets >= (origin if i else targets[0])) & (targets < stop)
        if not pick.any():
            continue
        result = garch_t_fit(returns, origin - 1)  # returns into prices before the origin only
        first = int(targets[pick][0]) - 2  # the forecast of returns[t - 1] is made at index t - 2
        variance = result.forecast(horizon=1, start=first, reindex=False).variance.to_numpy()[:, 0]
        sigma = np.sqrt(variance[targets[pick] - 2 - first]) / 100
        z = np.asarray(result.model.distribution.ppf(np.array(levels), result.params["nu"]))
        out[pick] = prices[targets[pick] - 1][:, None] * np.exp(sigma[:, None] * z[None, :])
    return out


def always_up_accuracy(prices: np.ndarray, targets: np.ndarray) -> float:
    """Directional accuracy of always predicting 'up' (days without a move left out)."""
    moves = np.sign(prices[targets] - prices[targets - 1])
    moves = moves[moves != 0]
    return float(np.mean(moves > 0)) if len(moves) else math.nan
