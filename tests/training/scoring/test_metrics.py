"""Metric code against values computed by hand (pinball-loss signs, Christoffersen, Diebold-Mariano, MASE)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.scoring import metrics, significance


def test_point_metrics_by_hand() -> None:
    actual, forecast = np.array([100.0, 110.0, 90.0]), np.array([102.0, 105.0, 90.0])
    assert metrics.mae(actual, forecast) == pytest.approx((2 + 5 + 0) / 3)
    assert metrics.rmse(actual, forecast) == pytest.approx(math.sqrt((4 + 25 + 0) / 3))
    assert metrics.mape(actual, forecast) == pytest.approx((2 / 100 + 5 / 110 + 0) / 3 * 100)
    # in-sample naive MAE of [10, 12, 11, 15] is (2 + 1 + 4) / 3
    assert metrics.mase(actual, forecast, np.array([10.0, 12.0, 11.0, 15.0])) == pytest.approx((7 / 3) / (7 / 3))


def test_pinball_loss_signs() -> None:
    # y = 10; q_0.1 = 8 (below y: 0.1 * 2 = 0.2); q_0.9 = 8 (below y: 0.9 * 2 = 1.8);
    # q_0.1 = 12 (above y: 0.9 * 2 = 1.8); q_0.9 = 12 (above y: 0.1 * 2 = 0.2)
    levels = np.array([0.1, 0.9])
    assert metrics.pinball(np.array([10.0]), np.array([[8.0, 8.0]]), levels) == pytest.approx((0.2 + 1.8) / 2)
    assert metrics.pinball(np.array([10.0]), np.array([[12.0, 12.0]]), levels) == pytest.approx((1.8 + 0.2) / 2)
    # a well-placed interval [8, 12] costs 0.2 on each side
    assert metrics.pinball(np.array([10.0]), np.array([[8.0, 12.0]]), levels) == pytest.approx(0.2)


def test_directional_accuracy_leaves_out_no_move_days() -> None:
    last = np.array([10.0, 10.0, 10.0, 10.0])
    actual = np.array([11.0, 9.0, 10.0, 12.0])
    forecast = np.array([10.5, 10.5, 9.0, 10.0])  # right, wrong, (no move), no prediction
    assert metrics.directional_accuracy(last, actual, forecast) == pytest.approx(1 / 3)
    assert metrics.directional_accuracy(last, actual, last) is None
    test = significance.direction_test(last, actual, forecast, up_share=2 / 3)
    assert (test["n"], test["hits"]) == (2, 1)
    # P(X >= 1) for Binomial(2, 2/3) = 1 - (1/3)^2
    assert test["p_value"] == pytest.approx(1 - 1 / 9)


def test_coverage_and_christoffersen_by_hand() -> None:
    actual = np.array([1.0, 5.0, 1.0, 1.0, 5.0, 5.0, 1.0, 1.0, 1.0, 1.0])
    lower, upper = np.zeros(10), np.full(10, 2.0)
    result = metrics.coverage_test(actual, lower, upper, level=0.8)
    assert result["coverage"] == pytest.approx(0.7) and result["violations"] == 3
    assert result["mean_width"] == 2.0
    # LR_uc = -2 [7 ln 0.8 + 3 ln 0.2 - 7 ln 0.7 - 3 ln 0.3]
    lr_uc = -2 * (7 * math.log(0.8) + 3 * math.log(0.2) - 7 * math.log(0.7) - 3 * math.log(0.3))
    assert metrics.lr_unconditional(10, 3, 0.2) == pytest.approx(lr_uc)
    assert result["uc_p_value"] == pytest.approx(math.erfc(math.sqrt(lr_uc / 2)))
    # hits 0100110000: transitions n00=4 n01=2 n10=2 n11=1
    pi01, pi11, pi = 2 / 6, 1 / 3, 3 / 9
    lr_ind = -2 * (
        (6 * math.log(1 - pi) + 3 * math.log(pi))
        - (4 * math.log(1 - pi01) + 2 * math.log(pi01) + 2 * math.log(1 - pi11) + math.log(pi11))
    )
    assert metrics.lr_independence(np.array([0, 1, 0, 0, 1, 1, 0, 0, 0, 0])) == pytest.approx(lr_ind)


def test_interval_scores_pair_levels() -> None:
    levels = (0.025, 0.1, 0.5, 0.9, 0.975)
    q = np.tile([1.0, 2.0, 3.0, 4.0, 5.0], (4, 1))
    result = metrics.interval_scores(np.array([3.0, 4.5, 0.5, 3.0]), q, levels)
    assert result["coverage_80"]["coverage"] == 0.5 and result["coverage_95"]["coverage"] == 0.75
    assert set(result) == {"pinball", "coverage_80", "coverage_95"}
