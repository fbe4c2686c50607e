"""Forecasts a user gets for free, computed only from prices before each target day.

Interval baselines are centred on the last price (naive) with a spread from: a 60-day Gaussian, the
empirical 250-day quantiles, EWMA (RiskMetrics, lambda 0.94) Gaussian, filtered historical simulation
(FHS: the posted window's EWMA sigma times fixed quantiles of standardised returns), and two GARCH-family
models fitted by the `arch` package on the 1,000 returns before each block of 250 days: GARCH(1,1) with
Student-t innovations and GJR-GARCH(1,1,1) with Hansen's skewed t, which the VaR literature reports as the
strongest simple daily baseline on equities.
"""

from __future__ import annotations

import math
import warnings
from statistics import NormalDist
from typing import Literal

import numpy as np
from arch import arch_model
from arch.univariate.base import ARCHModelResult

EWMA_SPAN = 10
VOL_DAYS = 60
EMPIRICAL_DAYS = 250
RISKMETRICS_LAMBDA = 0.94
EWMA_SEED_DAYS = 30  # the first variance is the mean square of the first 30 returns
FHS_DAYS = 500  # standardised returns behind each filtered-historical-simulation quantile
FIT_DAYS = 1000  # returns each GARCH-family fit sees: the 1,000 before its block
REFIT_DAYS = 250  # a GARCH-family model is refitted every 250 target days
SIGMA_FLOOR = 1e-4  # as in the model's graph: a flat window still gives a positive sigma
# The GARCH family scored next to every model: (name, arch_model keywords)
GARCH_MODELS: dict[str, tuple[int, Literal["t", "skewt"]]] = {
    "garch-t": (0, "t"),
    "gjr-skewt": (1, "skewt"),
}  # (o, dist)


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


def window_sigma(windows: np.ndarray) -> np.ndarray:
    """(N, T) price windows -> (N,) EWMA sigma of each window's T-1 log-returns, exactly as the model's graph
    computes it: RiskMetrics weights (lambda 0.94, newest heaviest) normalised to sum to 1, floored."""
    returns = np.diff(np.log(windows), axis=1)
    weights = RISKMETRICS_LAMBDA ** np.arange(returns.shape[1] - 1, -1, -1, dtype=np.float64)
    weights /= weights.sum()
    return np.maximum(np.sqrt((returns * returns * weights).sum(axis=1)), SIGMA_FLOOR)


def price_windows(prices: np.ndarray, targets: np.ndarray, window: int) -> np.ndarray:
    """(N, window) the prices before each target day."""
    return prices[targets[:, None] + np.arange(-window, 0)[None, :]]


def standardised_next_returns(prices: np.ndarray, targets: np.ndarray, window: int) -> np.ndarray:
    """(N,) each target day's log-return over the EWMA sigma of the window before it."""
    sigma = window_sigma(price_windows(prices, targets, window))
    return np.log(prices[targets] / prices[targets - 1]) / sigma


def fhs_table(prices: np.ndarray, window: int, levels: tuple[float, ...], exclude_newest: int = 500) -> np.ndarray:
    """(Q,) empirical quantiles of standardised next-day returns of a series, without its newest days (the
    default split's validation and test years)."""
    targets = np.arange(window, len(prices) - exclude_newest)
    return np.quantile(standardised_next_returns(prices, targets, window), levels)


def fhs_window_quantiles(
    prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...], window: int, table: np.ndarray
) -> np.ndarray:
    """Filtered historical simulation on the posted window alone: last price x exp(window sigma x table)."""
    if len(table) != len(levels):
        raise ValueError(f"an FHS table of {len(table)} quantiles for {len(levels)} levels")
    sigma = window_sigma(price_windows(prices, targets, window))
    return prices[targets - 1][:, None] * np.exp(sigma[:, None] * np.asarray(table)[None, :])


def garch_family_fit(returns_pct: np.ndarray, kind: str, last_obs: int | None = None) -> ARCHModelResult:
    """GARCH(1,1)-t or GJR-GARCH(1,1,1)-skew-t, zero mean, fitted on returns_pct[:last_obs] (in percent)."""
    asymmetric, dist = GARCH_MODELS[kind]
    model = arch_model(returns_pct, mean="Zero", vol="GARCH", p=1, o=asymmetric, q=1, dist=dist, rescale=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; a failed fit shows in its scores
        return model.fit(last_obs=last_obs, disp="off", show_warning=False)


def garch_family_quantiles(
    prices: np.ndarray,
    targets: np.ndarray,
    levels: tuple[float, ...],
    kind: str,
    refit_every: int = REFIT_DAYS,
    fit_days: int = FIT_DAYS,
) -> np.ndarray:
    """(N, Q) naive with GARCH-family quantiles: refitted every `refit_every` targets on the `fit_days`
    returns before the block (fewer when the series is shorter), then filtered through the block."""
    returns = log_returns(prices) * 100
    out = np.empty((len(targets), len(levels)))
    for b in range(0, len(targets), refit_every):
        block = targets[b : b + refit_every]
        first = int(block[0])  # its return is returns[first - 1]; the fit sees returns before it
        base = max(0, first - 1 - fit_days)
        result = garch_family_fit(returns[base : int(block.max())], kind, last_obs=first - 1 - base)
        variance = result.forecast(horizon=1, start=first - 2 - base, reindex=False).variance.to_numpy()[:, 0]
        sigma = np.sqrt(variance[block - first]) / 100  # row k: the forecast for target first + k
        out[b : b + refit_every] = prices[block - 1][:, None] * np.exp(
            sigma[:, None] * standard_quantiles(result, levels)
        )
    return out


def standard_quantiles(result: ARCHModelResult, levels: tuple[float, ...]) -> np.ndarray:
    """(Q,) quantiles of a fitted model's standardised innovation distribution."""
    distribution = result.model.distribution
    shape = result.params[distribution.parameter_names()].to_numpy()
    return np.asarray(distribution.ppf(np.array(levels), shape if len(shape) else None))


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
