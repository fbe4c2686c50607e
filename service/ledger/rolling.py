"""Rolling coverage: each central interval's coverage over the last 250 scored days, day by day, and the band a
calibrated interval's 250-day coverage stays in; where live miscalibration shows first."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from service.ledger.calibration import RECENT, central_intervals

# About two binomial standard deviations of 250 days' coverage (0.025 at 80%, 0.014 at 95%), rounded out.
BANDS = {"0.8": (0.75, 0.85), "0.95": (0.925, 0.975)}
POINTS = 500  # the most days a rolling series is drawn with: enough for a plot, small for an answer


def band(label: str) -> tuple[float, float]:
    """The range of 250-day coverage a calibrated interval `label` ('0.8') keeps to most of the time."""
    if label in BANDS:
        return BANDS[label]
    nominal = float(label)
    half = 2.0 * math.sqrt(nominal * (1.0 - nominal) / RECENT)
    return (nominal - half, nominal + half)


def rolling_coverage(outcome: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...]) -> dict[str, np.ndarray]:
    """Per central interval, the coverage of the RECENT scored days ending at each day from the RECENT-th on."""
    found = {}
    for label, (low, high) in central_intervals(levels).items():
        hits = ((outcome >= quantiles[:, low]) & (outcome <= quantiles[:, high])).astype(np.float64)
        if len(hits) < RECENT:
            found[label] = np.empty(0)
            continue
        # exact counts (a cumulative sum of 0/1), then one division: no drift over tens of thousands of days
        counts = np.cumsum(np.concatenate([[0.0], hits]))
        found[label] = (counts[RECENT:] - counts[:-RECENT]) / RECENT
    return found


def outside_band(coverage: dict[str, np.ndarray]) -> dict[str, float]:
    """The share of rolling windows whose coverage left its band."""
    found = {}
    for label, values in coverage.items():
        low, high = band(label)
        found[label] = float(np.mean((values < low - 1e-12) | (values > high + 1e-12))) if len(values) else 0.0
    return found


def rolling_series(
    outcome: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...], dates: list[str | None]
) -> dict[str, Any]:
    """The rolling coverage of one series to draw: the band, the share of windows outside it (every window
    counted), and at most POINTS of the windows (the last always), each by its scored day's number and date."""
    coverage = rolling_coverage(outcome, quantiles, levels)
    windows = max(len(outcome) - RECENT + 1, 0)
    picks: list[int] = sorted({round(float(x)) for x in np.linspace(0, windows - 1, min(POINTS, windows))})
    return {
        "days": RECENT,
        "windows": windows,
        "band": {label: list(band(label)) for label in coverage},
        "outside_band": outside_band(coverage),
        "day": [i + RECENT for i in picks],
        "date": [dates[i + RECENT - 1] for i in picks],
        "coverage": {label: [float(values[i]) for i in picks] for label, values in coverage.items()},
    }
