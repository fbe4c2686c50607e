"""Forecasts a user gets for free, computed only from prices before each target day."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

EWMA_SPAN = 10
VOL_DAYS = 60
EMPIRICAL_DAYS = 250


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
    z = np.array([NormalDist().inv_cdf(q) for q in levels])
    return prices[targets - 1][:, None] * np.exp(sigma[:, None] * z[None, :])


def empirical_quantiles(prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Naive with the empirical quantiles of the last 250 daily returns: (N, Q) price quantiles."""
    returns = past_returns(prices, targets, EMPIRICAL_DAYS)
    q = np.quantile(returns, levels, axis=1).T  # (N, Q)
    return prices[targets - 1][:, None] * np.exp(q)


def always_up_accuracy(prices: np.ndarray, targets: np.ndarray) -> float:
    """Directional accuracy of always predicting 'up' (days without a move left out)."""
    moves = np.sign(prices[targets] - prices[targets - 1])
    moves = moves[moves != 0]
    return float(np.mean(moves > 0)) if len(moves) else math.nan
