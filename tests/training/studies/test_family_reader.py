"""The family reader: its prior before any return, which type long windows pick, and its rows on a real path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from training.core.synthetic import HELD_OUT, simulate_asset
from training.scoring import baselines
from training.studies import family_reader, loo

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)
# A coarser prior than the report's, so that a whole scored path reads in seconds: a real configuration, not a stub
COARSE = family_reader.Support(
    persistences=(0.97, 0.99), news_shares=(0.08,), level_vols=(0.005, 0.01, 0.02, 0.04), start_ratios=(1.0,)
)


def window_returns(asset_index: int, days: int, seed: int, window: int) -> np.ndarray:
    """(N, window - 1) log-returns of windows every 97 days along a simulated path of a held-out asset."""
    prices = simulate_asset(HELD_OUT[asset_index], days, seed=seed).prices
    return np.diff(np.log(baselines.price_windows(prices, np.arange(window, days, 97), window)), axis=1)


def type_mass(returns: np.ndarray, prior: tuple[float, ...]) -> np.ndarray:
    """(N, types) the posterior weight on each type."""
    weights = family_reader.type_weights(family_reader.fit_types(returns), prior)
    return np.stack([w.sum(axis=1) for w in weights], axis=1)


def test_with_no_returns_the_weights_are_the_prior_and_the_index_type_has_the_longer_left_tail() -> None:
    """Before any return, each type holds its prior mass; the symmetric type's quantiles are symmetric about 0
    and the index-like type's left tail is the longer (its skew)."""
    nothing = np.zeros((1, 0))
    for prior in family_reader.PRIORS.values():
        np.testing.assert_allclose(type_mass(nothing, prior)[0], prior)
    only = {"symmetric": (1.0, 0.0, 0.0), "index": (0.0, 0.0, 1.0)}
    q = family_reader.predictive_quantiles(nothing, LEVELS, only)
    np.testing.assert_allclose(q["symmetric"][0], -q["symmetric"][0][::-1], atol=1e-9)
    assert -q["index"][0][0] > q["index"][0][-1] and q["index"][0][0] < q["symmetric"][0][0]


def test_long_windows_pick_the_type_of_the_asset() -> None:
    """Given 1,000 returns instead of 59, the leverage asset's windows all but rule out the symmetric type, and
    the symmetric GARCH-t's windows weigh it most on the whole (from an even prior: 1/3)."""
    even = family_reader.PRIORS["even"]
    leverage = type_mass(window_returns(0, 4000, seed=8, window=1001), even)
    symmetric = type_mass(window_returns(1, 4000, seed=8, window=1001), even)
    assert np.all(leverage[:, 0] < 0.01) and np.median(symmetric[:, 0]) > 0.8


def test_priors_share_one_likelihood_and_order_the_tails() -> None:
    """On the same windows, each prior alone equals it computed with the others; quantiles rise with the level."""
    returns = window_returns(1, 800, seed=4, window=60)
    together = family_reader.predictive_quantiles(returns, LEVELS, family_reader.PRIORS)
    for name, prior in family_reader.PRIORS.items():
        alone = family_reader.predictive_quantiles(returns, LEVELS, {name: prior})[name]
        np.testing.assert_array_equal(together[name], alone)
        assert np.all(np.diff(alone, axis=1) > 0)
    assert not np.allclose(together["leaning symmetric"], together["leaning index-like"])


def test_rows_on_a_held_out_path_are_scored_like_the_loo_table(tmp_path: Path) -> None:
    """On a real path and the simple methods fitted to it: a row per prior with the loo table's fields, sane
    coverage and ratios, and a report with a section and verdicts per prior."""
    asset = replace(HELD_OUT[1], name="wild, short")
    series = simulate_asset(asset, 2200, seed=901)
    rows = family_reader.series_rows(series, tmp_path / "cache", COARSE)
    assert list(rows) == list(family_reader.PRIORS)
    for row in rows.values():
        assert set(row["ratio"]) == set(loo.STRONGEST)
        assert all(0.9 < r < 1.1 for r in row["ratio"].values())
        coverage = row["forecasters"]["model"]["intervals"]
        assert 0.7 < coverage["coverage_80"]["coverage"] < 0.9 and 0.88 < coverage["coverage_95"]["coverage"] < 0.99
    by_prior = {name: [row] for name, row in rows.items()}
    for found in by_prior.values():
        loo.add_holm(found)
    text = family_reader.write(tmp_path, by_prior).read_text()
    assert text.count("## Prior ") == len(family_reader.PRIORS)
    assert text.count("- Significantly worse than FHS") == len(family_reader.PRIORS)
    longer = family_reader.write(tmp_path, by_prior, window=120)
    assert longer.name == "family_reader_w120.md" and "posted 120-price window" in longer.read_text()


def test_a_window_the_tables_days_cannot_hold_is_refused(tmp_path: Path) -> None:
    """The scored days leave room for 120 prices before each: a longer window (or one without a return) is
    refused before anything is read or written."""
    for window in (1, loo.LONGEST_WINDOW + 1):
        with pytest.raises(ValueError, match=f"--window {window}"):
            family_reader.run_family_reader(tmp_path, window)
    assert not any(tmp_path.iterdir())
