"""Rolling coverage: every 250-day window's coverage exactly as counted one by one, the bands, the share of windows
outside them, and the drawn points (at most 500, the last always) with their days and dates."""

from __future__ import annotations

import numpy as np
import pytest

from service.ledger.calibration import RECENT
from service.ledger.rolling import POINTS, band, outside_band, rolling_coverage, rolling_series

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)


def forecasts(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """n calibrated Gaussian forecasts of N(0, 1) outcomes: (outcome, quantiles)."""
    z = np.array([-1.959964, -1.281552, 0.0, 1.281552, 1.959964])
    outcome = np.random.default_rng(seed).normal(size=n)
    return outcome, np.tile(z, (n, 1))


def test_each_window_is_counted_exactly() -> None:
    outcome, quantiles = forecasts(1_000)
    found = rolling_coverage(outcome, quantiles, LEVELS)
    inside = np.abs(outcome) <= 1.281552
    expected = [inside[i : i + RECENT].mean() for i in range(1_000 - RECENT + 1)]
    assert len(found["0.8"]) == 751 and np.array_equal(found["0.8"], np.array(expected))
    assert rolling_coverage(outcome[:249], quantiles[:249], LEVELS)["0.8"].size == 0


def test_the_bands_and_the_share_outside() -> None:
    assert band("0.8") == (0.75, 0.85) and band("0.95") == (0.925, 0.975)
    assert band("0.5") == pytest.approx((0.5 - 2 * np.sqrt(0.25 / RECENT), 0.5 + 2 * np.sqrt(0.25 / RECENT)))
    share = outside_band({"0.8": np.array([0.74, 0.75, 0.8, 0.85, 0.86]), "0.95": np.empty(0)})
    assert share == {"0.8": 0.4, "0.95": 0.0}  # the band's edges are inside


def test_a_long_series_is_drawn_with_at_most_500_points_the_last_included() -> None:
    outcome, quantiles = forecasts(5_000)
    dates = [f"d{i}" for i in range(5_000)]
    drawn = rolling_series(outcome, quantiles, LEVELS, dates)
    coverage = rolling_coverage(outcome, quantiles, LEVELS)
    assert drawn["windows"] == 4_751 and len(drawn["day"]) == POINTS and drawn["day"][-1] == 5_000
    assert drawn["date"][-1] == "d4999" and drawn["date"][0] == "d249"
    assert drawn["coverage"]["0.8"][-1] == coverage["0.8"][-1]
    assert drawn["outside_band"] == outside_band(coverage)  # every window counted, not the drawn ones
    assert rolling_series(outcome[:10], quantiles[:10], LEVELS, dates[:10])["day"] == []
