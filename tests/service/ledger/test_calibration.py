"""Scores against hand-computed values: coverage and its tests, hit rates, pinball loss in % of price."""

from __future__ import annotations

import math

import numpy as np
import pytest

from service.ledger.calibration import central_intervals, christoffersen_p, kupiec_p, pinball, scores, with_recent

LEVELS = (0.1, 0.5, 0.9)


def test_the_central_intervals_of_a_level_list() -> None:
    assert central_intervals((0.025, 0.1, 0.5, 0.9, 0.975)) == {"0.95": (0, 4), "0.8": (1, 3)}
    assert central_intervals((0.1, 0.5, 0.95)) == {}  # no pair: no interval


def test_scores_by_hand() -> None:
    quantiles = np.array([[90.0, 100.0, 110.0]] * 4)
    outcome = np.array([95.0, 120.0, 100.0, 85.0])  # inside, above, inside (at the median), below
    last = np.full(4, 100.0)
    found = scores(outcome, last, quantiles, LEVELS)
    assert found["scored"] == 4 and found["coverage"] == {"0.8": 0.5}
    assert found["hit_rate"] == {"0.1": 0.25, "0.5": 0.75, "0.9": 0.75}
    # pinball, in % of the last price: level 0.1 -> (5*0.1 + 30*0.1 + 10*0.1 + 5*0.9) / 4
    assert found["pinball"]["0.1"] == pytest.approx((0.5 + 3.0 + 1.0 + 4.5) / 4)
    assert found["pinball"]["mean"] == pytest.approx(pinball(outcome, last, quantiles, LEVELS).mean())


def test_kupiec_p_by_hand() -> None:
    misses = np.array([1] * 30 + [0] * 70)  # 30% misses where 20% are expected
    lr = -2 * (70 * math.log(0.8) + 30 * math.log(0.2) - 70 * math.log(0.7) - 30 * math.log(0.3))
    assert kupiec_p(misses, 0.2) == pytest.approx(math.erfc(math.sqrt(lr / 2)))
    assert kupiec_p(np.array([1] * 20 + [0] * 80), 0.2) == pytest.approx(1.0)


def test_christoffersen_sees_clustered_misses() -> None:
    clustered = np.array(([1] * 10 + [0] * 40) * 4)
    assert christoffersen_p(clustered) < 1e-6
    rng = np.random.default_rng(0)  # independent misses: rejected at 5% about 5% of the time, as a test should be
    rejected = [christoffersen_p((rng.random(500) < 0.2).astype(int)) < 0.05 for _ in range(400)]
    assert 0.02 < np.mean(rejected) < 0.09


def test_the_last_250_days_are_scored_on_their_own() -> None:
    quantiles = np.tile([90.0, 100.0, 110.0], (300, 1))
    outcome = np.r_[np.full(50, 200.0), np.full(250, 100.0)]  # 50 misses, then none
    found = with_recent(outcome, np.full(300, 100.0), quantiles, LEVELS)
    assert found["scored"] == 300 and found["coverage"]["0.8"] == pytest.approx(250 / 300)
    assert found["last_250"]["scored"] == 250 and found["last_250"]["coverage"]["0.8"] == 1.0


def test_nothing_scored_is_said_so() -> None:
    assert scores(np.array([]), np.array([]), np.zeros((0, 3)), LEVELS) == {"scored": 0}
