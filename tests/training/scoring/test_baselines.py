"""The interval baselines: the GARCH family recovers simulated parameters; every baseline uses only the past."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.core.synthetic import GarchParams, SimulatedAsset, simulate_asset, simulate_returns, synthetic_assets
from training.net.normalizers import VolNormalizer
from training.scoring import baselines, metrics

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


def gjr_path(gamma: float, days: int, seed: int) -> np.ndarray:
    asset = SimulatedAsset("test", 0.012, 0.985, 0.02, gamma, 7.0, -0.15, 0.0)
    return simulate_asset(asset, days, seed).prices


@pytest.mark.parametrize("kind", ["garch-t", "gjr-skewt"])
def test_garch_family_uses_only_the_1000_returns_before_each_block(kind: str) -> None:
    prices = gjr_path(0.1, 2000, seed=3)
    targets = np.arange(1400, 1700)  # two blocks: refits at 1400 and 1650
    before = baselines.garch_family_quantiles(prices, targets, LEVELS, kind)
    changed = prices.copy()
    changed[1550:] *= np.exp(np.random.default_rng(0).normal(0, 0.05, len(prices) - 1550).cumsum())  # the future
    changed[:300] *= 2.0  # older than the first block's 1,000 returns: a level shift no return sees...
    after = baselines.garch_family_quantiles(changed, targets, LEVELS, kind)
    past = targets <= 1550
    np.testing.assert_allclose(before[past], after[past], rtol=1e-9)
    assert not np.allclose(before[~past], after[~past])
    assert np.all(np.diff(before, axis=1) > 0)


def test_gjr_skew_t_fit_sees_the_leverage_that_garch_t_cannot() -> None:
    prices = gjr_path(0.18, 6000, seed=5)
    returns = np.diff(np.log(prices)) * 100
    fitted = baselines.garch_family_fit(returns, "gjr-skewt").params
    assert fitted["gamma[1]"] == pytest.approx(0.18, abs=0.06)
    assert fitted["lambda"] == pytest.approx(-0.15, abs=0.08)  # the skewed t's left tail
    targets = np.arange(3000, 6000)
    actual = prices[targets] / prices[targets - 1]
    losses = {
        kind: metrics.pinball(
            actual,
            baselines.garch_family_quantiles(prices, targets, LEVELS, kind) / prices[targets - 1][:, None],
            np.array(LEVELS),
        )
        for kind in ("garch-t", "gjr-skewt")
    }
    assert losses["gjr-skewt"] < losses["garch-t"]


def test_fhs_on_the_window_is_the_graphs_ewma_sigma_times_the_table() -> None:
    prices = synthetic_assets(days=400)[1].prices
    targets = np.arange(100, 400)
    table = baselines.fhs_table(prices, 60, LEVELS, exclude_newest=100)
    q = baselines.fhs_window_quantiles(prices, targets, LEVELS, 60, table)
    windows = baselines.price_windows(prices, targets, 60)
    graph = VolNormalizer(["ratio"], [0.01], [0.0], 60).sigma(torch.tensor(windows, dtype=torch.float32))
    np.testing.assert_allclose(baselines.window_sigma(windows), graph.numpy()[:, 0], rtol=1e-5)
    np.testing.assert_allclose(
        q, prices[targets - 1][:, None] * np.exp(baselines.window_sigma(windows)[:, None] * table)
    )
    # the table: quantiles of next-day returns over the window sigma, on days before the newest 100
    z = baselines.standardised_next_returns(prices, np.arange(60, 300), 60)
    np.testing.assert_allclose(table, np.quantile(z, LEVELS))
    with pytest.raises(ValueError, match="an FHS table of 3 quantiles for 5 levels"):
        baselines.fhs_window_quantiles(prices, targets, LEVELS, 60, table[:3])
