"""Metric code against values computed by hand (pinball-loss signs, Christoffersen, Diebold-Mariano, MASE)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.scoring import gate, metrics, significance


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


def test_binomial_tail_by_hand() -> None:
    assert significance.binomial_sf(3, 3, 0.5) == pytest.approx(0.125)
    assert significance.binomial_sf(2, 3, 0.5) == pytest.approx(0.5)
    assert significance.binomial_sf(0, 3, 0.5) == 1.0


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


def test_diebold_mariano_by_hand() -> None:
    e1, e2 = np.array([1.0, -1.0, 2.0, 0.0]), np.array([2.0, 2.0, -2.0, 1.0])
    d = e1**2 - e2**2  # [-3, -3, 0, -1], mean -1.75
    var = float(np.mean((d - d.mean()) ** 2))
    stat = -1.75 / math.sqrt(var / 4) * math.sqrt((4 + 1 - 2) / 4)  # HLN factor for h = 1
    result = significance.diebold_mariano(e1, e2)
    assert result["statistic"] == pytest.approx(stat)
    assert result["p_value"] == pytest.approx(math.erfc(abs(stat) / math.sqrt(2)))
    assert significance.diebold_mariano(e1, e1)["p_value"] == 1.0


def test_gate_failures() -> None:
    assert gate.gate_failures({"mae": 1.0}, {"mae": 1.0}) == []
    assert gate.gate_failures({"mae": 1.03}, {"mae": 1.0}) == ["MAE is 1.0300x naive (limit 1.02)"]


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.02, 0.04 -> x3, x2, x1, kept monotone; back in the given order
    assert significance.holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert significance.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert significance.holm([]) == []


def test_hac_diebold_mariano_by_hand_and_under_autocorrelation() -> None:
    d = np.array([1.0, -1.0, 2.0, 0.0, 1.0, -0.5])
    found = significance.diebold_mariano_hac(d, np.zeros_like(d), lags=1)
    c = d - d.mean()
    var = (c @ c) / 6 + 2 * 0.5 * (c[1:] @ c[:-1]) / 6  # Bartlett weight 1 - 1/2
    assert found["statistic"] == pytest.approx(d.mean() / np.sqrt(var / 6))
    assert significance.diebold_mariano_hac(d, d)["p_value"] == 1.0
    # persistent loss differences: the HAC variance is larger, so the evidence is weaker than iid would say
    rng = np.random.default_rng(0)
    smooth = np.convolve(rng.normal(0.05, 1, 3000), np.ones(10) / 10, mode="same")
    hac = significance.diebold_mariano_hac(smooth, np.zeros(3000), lags=20)
    iid = significance.diebold_mariano_hac(smooth, np.zeros(3000), lags=0)
    assert abs(hac["statistic"]) < abs(iid["statistic"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dynamic_quantile_test_accepts_the_true_quantile_and_rejects_a_stale_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sigma = np.exp(np.convolve(rng.normal(0, 0.6, 3000), np.ones(20) / 4, mode="same"))  # clustered volatility
    returns = sigma * rng.standard_normal(3000)
    true_q = sigma * -1.2815515655446004  # the 10% quantile of each day's normal
    stale_q = np.full(3000, np.quantile(returns, 0.1))  # right on average, blind to clustering
    assert significance.dynamic_quantile_test(returns, true_q, 0.1) > 0.01
    assert significance.dynamic_quantile_test(returns, stale_q, 0.1) < 1e-6
