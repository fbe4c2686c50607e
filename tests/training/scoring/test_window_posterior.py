"""The Bayes reader of a window: a one-point prior is the plain recursion, the mixture quantiles solve its CDF."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from training.core.synthetic import HELD_OUT, simulate_asset
from training.scoring import baselines, window_posterior
from training.studies import window_limit

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)


def window_returns(asset_index: int, days: int, seed: int, window: int = window_limit.WINDOW) -> np.ndarray:
    """(N, window - 1) log-returns of windows every 97 days along a simulated path of a held-out asset."""
    prices = simulate_asset(HELD_OUT[asset_index], days, seed=seed).prices
    return np.diff(np.log(baselines.price_windows(prices, np.arange(window, days, 97), window)), axis=1)


def test_a_one_point_prior_at_the_true_level_is_the_true_recursion() -> None:
    """Nothing to integrate: the predictive is the asset's own filter sigma times its innovation quantiles."""
    asset = HELD_OUT[0]  # leverage, skew and drift: every term of the recursion is used
    returns = window_returns(0, 1500, seed=3)
    support = window_posterior.grid(asset, leverage_known=True, vols=(asset.daily_vol,), starts=(1.0,))
    loglik, variance = window_posterior.likelihood(asset, returns, support)
    weights = window_posterior.posterior(loglik, window_posterior.log_prior(support, None))
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
    returns = window_returns(0, 4000, seed=8, window=1001)
    support = window_posterior.grid(asset, leverage_known=False)
    loglik, _ = window_posterior.likelihood(asset, returns, support)
    weights = window_posterior.posterior(loglik, window_posterior.log_prior(support, "even"))
    level_vol = (weights * np.sqrt(support.level)).sum(axis=1)
    assert np.all(np.abs(level_vol / asset.daily_vol - 1) < 0.35)
    symmetric = weights[:, support.gamma == 0].sum(axis=1)
    assert np.all(symmetric < 0.1)


def test_with_no_returns_the_posterior_is_the_leverage_prior() -> None:
    """Before any return is read, the weight on each asymmetry is the prior's; levels and starts share it evenly."""
    asset = HELD_OUT[1]
    for name, prior in window_posterior.LEVERAGE_PRIORS.items():
        support = window_posterior.grid(asset, leverage_known=False)
        loglik, _ = window_posterior.likelihood(asset, np.zeros((2, 0)), support)
        weights = window_posterior.posterior(loglik, window_posterior.log_prior(support, name))
        for share, mass in zip(window_posterior.ASYMMETRIES, prior, strict=True):
            on_it = support.share == share
            np.testing.assert_allclose(weights[:, on_it].sum(axis=1), mass)
            np.testing.assert_allclose(weights[:, on_it], mass / on_it.sum())


def test_readers_of_one_grid_share_its_likelihood_and_differ_only_by_their_prior() -> None:
    """Both leverage-unknown readers from one call equal each computed alone; the known-leverage one differs."""
    asset = HELD_OUT[1]
    returns = window_returns(1, 800, seed=4)
    readers = {"known": None, "even": "even", "leaning": "leaning symmetric"}
    together = window_posterior.predictive_quantiles(asset, returns, LEVELS, readers)
    for name, leverage in readers.items():
        alone = window_posterior.predictive_quantiles(asset, returns, LEVELS, {name: leverage})[name]
        np.testing.assert_array_equal(together[name], alone)
    assert not np.allclose(together["even"], together["leaning"])


def test_the_cdf_table_reads_as_np_interp_on_its_grid_and_is_computed_once() -> None:
    """Inside the grid, at its knots, at its ends and beyond them: np.interp's values, to rounding."""
    dist, shape = window_posterior.innovation(HELD_OUT[0])
    table = window_posterior.cdf_table(dist, shape)
    assert window_posterior.cdf_table(dist, shape) is table
    z = np.linspace(table.LOW, table.HIGH, table.POINTS)
    x = np.concatenate([np.random.default_rng(5).standard_normal(10_000) * 4, z[:3], z[-3:], [-1e6, -61.0, 61.0, 1e6]])
    np.testing.assert_allclose(table.at(x), np.interp(x, z, table.values), rtol=0, atol=1e-14)
    assert table.at(np.array([-1e6]))[0] == table.values[0] and table.at(np.array([1e6]))[0] == table.values[-1]
