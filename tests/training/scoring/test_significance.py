"""Significance tests against hand-computed values: binomial, Diebold-Mariano (plain and HAC), Holm, the DQ test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.scoring import significance


def test_binomial_tail_by_hand() -> None:
    assert significance.binomial_sf(3, 3, 0.5) == pytest.approx(0.125)
    assert significance.binomial_sf(2, 3, 0.5) == pytest.approx(0.5)
    assert significance.binomial_sf(0, 3, 0.5) == 1.0


def test_diebold_mariano_by_hand() -> None:
    e1, e2 = np.array([1.0, -1.0, 2.0, 0.0]), np.array([2.0, 2.0, -2.0, 1.0])
    d = e1**2 - e2**2  # [-3, -3, 0, -1], mean -1.75
    var = float(np.mean((d - d.mean()) ** 2))
    stat = -1.75 / math.sqrt(var / 4) * math.sqrt((4 + 1 - 2) / 4)  # HLN factor for h = 1
    result = significance.diebold_mariano(e1, e2)
    assert result["statistic"] == pytest.approx(stat)
    assert result["p_value"] == pytest.approx(math.erfc(abs(stat) / math.sqrt(2)))
    assert significance.diebold_mariano(e1, e1)["p_value"] == 1.0


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
