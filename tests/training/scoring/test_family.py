"""The family reader: its prior before any return, which type long windows pick, its priors' tails, and that it
reads prices without caring for their scale."""

from __future__ import annotations

import numpy as np

from training.core.synthetic import HELD_OUT, simulate_asset
from training.scoring import baselines, family

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)


def window_returns(asset_index: int, days: int, seed: int, window: int) -> np.ndarray:
    """(N, window - 1) log-returns of windows every 97 days along a simulated path of a held-out asset."""
    prices = simulate_asset(HELD_OUT[asset_index], days, seed=seed).prices
    return np.diff(np.log(baselines.price_windows(prices, np.arange(window, days, 97), window)), axis=1)


def type_mass(returns: np.ndarray, prior: tuple[float, ...]) -> np.ndarray:
    """(N, types) the posterior weight on each type."""
    weights = family.type_weights(family.fit_types(returns), prior)
    return np.stack([w.sum(axis=1) for w in weights], axis=1)


def test_with_no_returns_the_weights_are_the_prior_and_the_index_type_has_the_longer_left_tail() -> None:
    """Before any return, each type holds its prior mass; the symmetric type's quantiles are symmetric about 0
    and the index-like type's left tail is the longer (its skew)."""
    nothing = np.zeros((1, 0))
    for prior in family.PRIORS.values():
        np.testing.assert_allclose(type_mass(nothing, prior)[0], prior)
    only = {"symmetric": (1.0, 0.0, 0.0), "index": (0.0, 0.0, 1.0)}
    q = family.predictive_quantiles(nothing, LEVELS, only)
    np.testing.assert_allclose(q["symmetric"][0], -q["symmetric"][0][::-1], atol=1e-9)
    assert -q["index"][0][0] > q["index"][0][-1] and q["index"][0][0] < q["symmetric"][0][0]


def test_long_windows_pick_the_type_of_the_asset() -> None:
    """Given 1,000 returns instead of 59, the leverage asset's windows all but rule out the symmetric type, and
    the symmetric GARCH-t's windows weigh it most on the whole (from an even prior: 1/3)."""
    even = family.PRIORS["even"]
    leverage = type_mass(window_returns(0, 4000, seed=8, window=1001), even)
    symmetric = type_mass(window_returns(1, 4000, seed=8, window=1001), even)
    assert np.all(leverage[:, 0] < 0.01) and np.median(symmetric[:, 0]) > 0.8


def test_priors_share_one_likelihood_and_order_the_tails() -> None:
    """On the same windows, each prior alone equals it computed with the others; quantiles rise with the level."""
    returns = window_returns(1, 800, seed=4, window=60)
    together = family.predictive_quantiles(returns, LEVELS, family.PRIORS)
    for name, prior in family.PRIORS.items():
        alone = family.predictive_quantiles(returns, LEVELS, {name: prior})[name]
        np.testing.assert_array_equal(together[name], alone)
        assert np.all(np.diff(alone, axis=1) > 0)
    assert not np.allclose(together["leaning symmetric"], together["leaning index-like"])


def test_the_reader_of_price_windows_is_the_return_reader_on_the_last_price_at_any_scale() -> None:
    """Prices in, prices out: the quantiles are the last price times exp(the return quantiles), whatever the price
    level (a hundred times the prices, a hundred times the quantiles)."""
    prices = simulate_asset(HELD_OUT[0], 800, seed=5).prices
    windows = baselines.price_windows(prices, np.arange(60, 800, 97), 60)
    got = family.window_quantiles(windows, LEVELS)
    returns = family.predictive_quantiles(np.diff(np.log(windows), axis=1), LEVELS, {"e": family.PRIORS["even"]})["e"]
    np.testing.assert_allclose(got, windows[:, -1:] * np.exp(returns), rtol=1e-12)
    np.testing.assert_allclose(family.window_quantiles(100 * windows, LEVELS), 100 * got, rtol=1e-9)
    assert np.all(np.diff(got, axis=1) > 0)
