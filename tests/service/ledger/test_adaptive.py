"""Adaptive intervals: the log-distance from the median scaled per interval, and a step after each outcome that
keeps the long-run miss rate at the nominal one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from service.ledger.adaptive import adjusted, missed, step

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)


def test_no_state_is_the_model_itself() -> None:
    quantiles = np.array([95.0, 97.0, 100.0, 103.0, 105.0])
    scaled, factors = adjusted(quantiles, LEVELS, {})
    assert scaled.tolist() == quantiles.tolist() and factors == {"0.95": 1.0, "0.8": 1.0}


def test_theta_scales_the_log_distance_from_the_median() -> None:
    quantiles = np.array([95.0, 97.0, 100.0, 103.0, 105.0])
    scaled, factors = adjusted(quantiles, LEVELS, {"0.8": math.log(1.5)})
    assert factors["0.8"] == pytest.approx(1.5)
    assert scaled[1] == pytest.approx(100 * (0.97**1.5)) and scaled[3] == pytest.approx(100 * (1.03**1.5))
    assert scaled[[0, 2, 4]].tolist() == [95.0, 100.0, 105.0]


def test_quantiles_never_cross_whatever_the_state() -> None:
    quantiles = np.array([95.0, 97.0, 100.0, 103.0, 105.0])
    scaled, _ = adjusted(quantiles, LEVELS, {"0.8": 3.0, "0.95": -3.0})
    assert np.all(np.diff(scaled) >= 0)


def test_a_miss_widens_a_hit_narrows_and_nominal_coverage_is_a_fixed_point() -> None:
    assert step(0.0, True, "0.8", 0.02) == pytest.approx(0.016) and step(0.0, False, "0.8", 0.02) == pytest.approx(
        -0.004
    )
    assert 4 * step(0.0, False, "0.8", 0.02) + step(0.0, True, "0.8", 0.02) == pytest.approx(0.0)  # 1 miss in 5
    assert missed(111.0, (90.0, 100.0, 110.0), (0.1, 0.5, 0.9), "0.8") and not missed(
        110.0, (90.0, 100.0, 110.0), (0.1, 0.5, 0.9), "0.8"
    )


def test_online_the_miss_rate_settles_at_nominal_on_an_interval_too_narrow() -> None:
    rng = np.random.default_rng(3)
    # The model's intervals are 0.55 of what they should be: its 80% one covers about 52% as trained.
    quantiles = 100.0 * np.exp(0.01 * 0.55 * np.array([-1.96, -1.2816, 0.0, 1.2816, 1.96]))
    thetas: dict[str, float] = {}
    misses: dict[str, list[bool]] = {"0.8": [], "0.95": []}
    for _ in range(6000):
        served, _ = adjusted(quantiles, LEVELS, thetas)
        outcome = 100.0 * math.exp(rng.normal(0, 0.01))
        for label, found in misses.items():
            miss = missed(outcome, tuple(served), LEVELS, label)
            thetas[label] = step(thetas.get(label, 0.0), miss, label, 0.02)
            found.append(miss)
    assert abs(np.mean(misses["0.8"][1000:]) - 0.2) < 0.015 and abs(np.mean(misses["0.95"][1000:]) - 0.05) < 0.01
