"""Scores of recorded forecasts against what happened: coverage and its tests, hit rates, pinball loss."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

RECENT = 250  # the last N scored days, scored again on their own: where drift shows


def central_intervals(levels: tuple[float, ...]) -> dict[str, tuple[int, int]]:
    """The central intervals a level list holds, by coverage ('0.8': (index of 0.1, index of 0.9), ...)."""
    found = {}
    for i, low in enumerate(levels):
        high = round(1.0 - low, 6)
        if low < 0.5 and high in levels:
            found[f"{round(1.0 - 2.0 * low, 6):g}"] = (i, levels.index(high))
    return found


def xlogy(x: float, y: float) -> float:
    return 0.0 if x == 0 else x * math.log(y)


def chi2_1_sf(x: float) -> float:
    """P(X > x) for X ~ chi-squared with one degree of freedom."""
    return math.erfc(math.sqrt(max(x, 0.0) / 2.0))


def kupiec_p(misses: np.ndarray, expected: float) -> float:
    """Kupiec's unconditional coverage test: is the share of misses the interval's nominal one?"""
    n, k = len(misses), int(misses.sum())
    observed = k / n
    ratio = xlogy(n - k, 1 - expected) + xlogy(k, expected) - xlogy(n - k, 1 - observed) - xlogy(k, observed)
    return chi2_1_sf(-2.0 * ratio)


def christoffersen_p(misses: np.ndarray) -> float:
    """Christoffersen's independence test: does a miss make the next day's miss likelier?"""
    before, after = misses[:-1], misses[1:]
    counts = {(a, b): int(np.sum((before == a) & (after == b))) for a in (0, 1) for b in (0, 1)}
    n0, n1 = counts[0, 0] + counts[0, 1], counts[1, 0] + counts[1, 1]
    p01, p11 = (counts[0, 1] / n0 if n0 else 0.0), (counts[1, 1] / n1 if n1 else 0.0)
    p = (counts[0, 1] + counts[1, 1]) / max(n0 + n1, 1)
    null = xlogy(counts[0, 0] + counts[1, 0], 1 - p) + xlogy(counts[0, 1] + counts[1, 1], p)
    alt = xlogy(counts[0, 0], 1 - p01) + xlogy(counts[0, 1], p01) + xlogy(counts[1, 0], 1 - p11)
    return chi2_1_sf(-2.0 * (null - alt - xlogy(counts[1, 1], p11)))


def pinball(outcome: np.ndarray, last: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """(N, Q) pinball loss of every quantile, in % of the last price (comparable across price levels)."""
    gap = (outcome[:, None] - quantiles) / last[:, None] * 100.0
    tau = np.asarray(levels)[None, :]
    return np.maximum(tau * gap, (tau - 1.0) * gap)


def scores(outcome: np.ndarray, last: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...]) -> dict[str, Any]:
    """Every score of N forecasts: coverage with Kupiec's and Christoffersen's p per central interval, each level's
    hit rate (the share of outcomes at or below its quantile) and pinball loss, and the mean pinball loss."""
    if len(outcome) == 0:
        return {"scored": 0}
    losses = pinball(outcome, last, quantiles, levels)
    keys = [f"{level:g}" for level in levels]
    found: dict[str, Any] = {
        "scored": len(outcome),
        "hit_rate": {k: float(np.mean(outcome <= quantiles[:, i])) for i, k in enumerate(keys)},
        "pinball": {k: float(losses[:, i].mean()) for i, k in enumerate(keys)} | {"mean": float(losses.mean())},
        "coverage": {},
        "kupiec_p": {},
        "christoffersen_p": {},
    }
    for label, (low, high) in central_intervals(levels).items():
        misses = ((outcome < quantiles[:, low]) | (outcome > quantiles[:, high])).astype(int)
        found["coverage"][label] = float(1.0 - misses.mean())
        found["kupiec_p"][label] = kupiec_p(misses, 1.0 - float(label))
        found["christoffersen_p"][label] = christoffersen_p(misses)
    return found


def with_recent(outcome: np.ndarray, last: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...]) -> dict:
    """The scores of every scored day, and of the last RECENT of them on their own."""
    recent = slice(-RECENT, None)
    return {
        **scores(outcome, last, quantiles, levels),
        "last_250": scores(outcome[recent], last[recent], quantiles[recent], levels),
    }
