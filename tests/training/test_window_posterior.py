"""The Bayes reader of a window: a one-point prior is the plain recursion, the mixture quantiles solve its CDF."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from training import window_limit, window_posterior
from training.synthetic import HELD_OUT, simulate_asset

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)


def window_returns(asset_index: int, days: int, seed: int) -> np.ndarray:
    prices = simulate_asset(HELD_OUT[asset_index], days, seed=seed).prices
    starts = range(0, days - window_limit.WINDOW, 97)
    return np.diff(np.log(np.stack([prices[i : i + window_limit.WINDOW] for i in starts])), axis=1)


def test_a_one_point_prior_at_the_true_level_is_the_true_recursion() -> None:
    """Nothing to integrate: the predictive is the asset's own filter sigma times its innovation quantiles."""
    asset = HELD_OUT[0]  # leverage, skew and drift: every term of the recursion is used
    returns = window_returns(0, 1500, seed=3)
    support = window_posterior.grid(asset, None, vols=(asset.daily_vol,), starts=(1.0,))
    weights, variance = window_posterior.posterior(asset, returns, support)
    assert np.allclose(weights, 1.0)
    got = window_posterior.mixture_quantiles(asset, weights, variance, LEVELS)
    level = np.full(len(returns), asset.daily_vol**2)
    sigma = window_limit.true_filter_sigma(asset, returns, level)
    expected = sigma[:, None] * window_limit.innovation_quantiles(asset, LEVELS)[None, :]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_mixture_quantiles_solve_the_mixture_cdf() -> None:
    """Two components of unequal weight and width: each quantile is the root of the mixture's own CDF."""
    asset = HELD_OUT[1]
    dist, shape = window_posterior.innovation(asset)
    weights, variance = np.array([[0.3, 0.7]]), np.array([[1e-4, 9e-4]])
    got = window_posterior.mixture_quantiles(asset, weights, variance, LEVELS)[0]

    def cdf(x: float) -> float:
        z = x / np.sqrt(variance[0])
        return float((weights[0] * np.asarray(dist.cdf(z, shape))).sum())

    for q, x in zip(LEVELS, got, strict=True):
        root = optimize.brentq(lambda v, q=q: cdf(v) - q, -1.0, 1.0, xtol=1e-12)
        assert abs(x - root) < 1e-6
    assert abs(got[2]) < 1e-9  # symmetric components: the median stays at zero


def test_the_posterior_finds_the_level_and_the_leverage_on_long_windows() -> None:
    """Given 1,000 returns instead of 59, the weights concentrate near the true level, and on the leverage asset
    most of them sit on the asymmetric recursions."""
    asset = HELD_OUT[0]
    prices = simulate_asset(asset, 4000, seed=8).prices
    returns = np.diff(np.log(np.stack([prices[i : i + 1001] for i in (0, 1500, 2999)])), axis=1)
    support = window_posterior.grid(asset, "even")
    weights, _ = window_posterior.posterior(asset, returns, support)
    level_vol = (weights * np.sqrt(support.level)).sum(axis=1)
    assert np.all(np.abs(level_vol / asset.daily_vol - 1) < 0.35)
    symmetric = weights[:, support.gamma == 0].sum(axis=1)
    assert np.all(symmetric < 0.1)


def test_with_no_returns_the_posterior_is_the_leverage_prior() -> None:
    """Before any return is read, the weight on each asymmetry is the prior's; levels and starts share it evenly."""
    asset = HELD_OUT[1]
    for name, prior in window_posterior.LEVERAGE_PRIORS.items():
        support = window_posterior.grid(asset, name)
        weights, _ = window_posterior.posterior(asset, np.zeros((2, 0)), support)
        news = asset.alpha + asset.gamma / 2
        for share, mass in zip(window_posterior.ASYMMETRIES, prior, strict=True):
            on_it = np.isclose(support.gamma, 2 * news * share)
            np.testing.assert_allclose(weights[:, on_it].sum(axis=1), mass)
            np.testing.assert_allclose(weights[:, on_it], mass / on_it.sum())
