"""The interval baselines: GARCH(1,1)-t recovers simulated parameters; EWMA and FHS use only the past."""

from __future__ import annotations

import numpy as np
import pytest

from training import baselines
from training.synthetic import GarchParams, simulate_returns, synthetic_assets

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_garch_t_fit_recovers_the_simulated_parameters(seed: int) -> None:
    truth = GarchParams.for_volatility(0.015)
    returns = simulate_returns(truth, 6000, seed=seed) * 100
    fitted = baselines.garch_t_fit(returns, len(returns)).params
    # tolerances of about 2.5 standard errors at 6,000 days
    assert fitted["alpha[1]"] + fitted["beta[1]"] == pytest.approx(truth.alpha + truth.beta, abs=0.015)
    assert fitted["alpha[1]"] == pytest.approx(truth.alpha, abs=0.03)
    assert fitted["beta[1]"] == pytest.approx(truth.beta, abs=0.04)
    assert fitted["omega"] == pytest.approx(truth.omega, rel=0.5)
    assert fitted["nu"] == pytest.approx(truth.nu, abs=1.5)


def test_synthetic_assets_have_their_volatility_and_any_price_level() -> None:
    assets = synthetic_assets(days=3000)
    vols = [np.diff(np.log(a.prices)).std() for a in assets]
    assert vols == sorted(vols) and vols == pytest.approx([0.005, 0.015, 0.03], rel=0.5)  # vol of vol is high
    assert [a.prices[0] for a in assets] == [40.0, 1500.0, 9.0]
    assert all(np.all(np.isfinite(a.prices)) and np.all(a.prices > 0) for a in assets)


@pytest.mark.parametrize(
    "method",
    [
        baselines.ewma_gaussian_quantiles,
        baselines.fhs_quantiles,
        lambda p, t, lv: baselines.garch_t_quantiles(p, t, lv, [int(t[0]), int(t[0]) + 40]),
    ],
)
def test_interval_baselines_use_only_the_past(method: object) -> None:
    prices = synthetic_assets(days=1200)[1].prices
    targets = np.arange(1000, 1100)
    before = method(prices, targets, LEVELS)
    scrambled = prices.copy()
    scrambled[1050:] = np.random.default_rng(0).permutation(scrambled[1050:])
    after = method(scrambled, targets, LEVELS)
    past = targets <= 1050  # a target day's interval may use prices up to the day before it
    np.testing.assert_allclose(before[past], after[past], rtol=1e-12)
    assert np.all(np.diff(before, axis=1) > 0)  # ordered quantiles around the last price


def test_ewma_variance_is_the_riskmetrics_recursion() -> None:
    returns = np.array([0.01, -0.02, 0.03] * 20)
    variance = baselines.ewma_variance(returns)
    assert variance[0] == pytest.approx(np.mean(returns[:30] ** 2))
    assert variance[5] == pytest.approx(0.94 * variance[4] + 0.06 * returns[4] ** 2)
