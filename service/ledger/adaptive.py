"""Adaptive intervals (FORECAST_ADAPT=aci): each central interval's width scaled by exp(theta) per series, theta
moved after every outcome by a step proportional to (miss - nominal miss rate): adaptive conformal inference
(Gibbs and Candes, NeurIPS 2021), on the interval's log-distance from the median."""

from __future__ import annotations

import math

import numpy as np

from service.ledger.calibration import central_intervals


def adjusted(
    quantiles: np.ndarray, levels: tuple[float, ...], thetas: dict[str, float]
) -> tuple[np.ndarray, dict[str, float]]:
    """(Q,) quantiles with each central interval's log-distance from the median scaled by exp(theta), sorted so
    that none cross; and the factor used per interval."""
    median = quantiles[levels.index(0.5)] if 0.5 in levels else float(np.median(quantiles))
    scaled = quantiles.astype(np.float64).copy()
    factors = {}
    for label, (low, high) in central_intervals(levels).items():
        factor = math.exp(thetas.get(label, 0.0))
        for i in (low, high):
            scaled[i] = median * math.exp(factor * math.log(quantiles[i] / median))
        factors[label] = factor
    return np.sort(scaled), factors


def missed(outcome: float, served: tuple[float, ...], levels: tuple[float, ...], label: str) -> bool:
    """Whether the outcome fell outside the served central interval `label`."""
    low, high = central_intervals(levels)[label]
    return not served[low] <= outcome <= served[high]


def step(theta: float, miss: bool, label: str, size: float) -> float:
    """theta after one outcome: wider after a miss, narrower after a hit, level on average at nominal coverage."""
    return theta + size * (float(miss) - (1.0 - float(label)))
