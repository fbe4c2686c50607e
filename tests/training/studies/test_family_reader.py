"""The family reader's report: its rows on a real path, scored like the leave-one-asset-out table."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from training.core.synthetic import HELD_OUT, simulate_asset
from training.scoring import family
from training.studies import family_reader, loo

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)
# A coarser prior than the report's, so that a whole scored path reads in seconds: a real configuration, not a stub
COARSE = family.Support(
    persistences=(0.97, 0.99), news_shares=(0.08,), level_vols=(0.005, 0.01, 0.02, 0.04), start_ratios=(1.0,)
)


def test_rows_on_a_held_out_path_are_scored_like_the_loo_table(tmp_path: Path) -> None:
    """On a real path and the simple methods fitted to it: a row per prior with the loo table's fields, sane
    coverage and ratios, and a report with a section and verdicts per prior."""
    asset = replace(HELD_OUT[1], name="wild, short")
    series = simulate_asset(asset, 2200, seed=901)
    rows = family_reader.series_rows(series, tmp_path / "cache", COARSE)
    assert list(rows) == list(family.PRIORS)
    for row in rows.values():
        assert set(row["ratio"]) == set(loo.STRONGEST)
        assert all(0.9 < r < 1.1 for r in row["ratio"].values())
        coverage = row["forecasters"]["model"]["intervals"]
        assert 0.7 < coverage["coverage_80"]["coverage"] < 0.9 and 0.88 < coverage["coverage_95"]["coverage"] < 0.99
    by_prior = {name: [row] for name, row in rows.items()}
    for found in by_prior.values():
        loo.add_holm(found)
    text = family_reader.write(tmp_path, by_prior).read_text()
    assert text.count("## Prior ") == len(family.PRIORS)
    assert text.count("- Significantly worse than FHS") == len(family.PRIORS)
    longer = family_reader.write(tmp_path, by_prior, window=120)
    assert longer.name == "family_reader_w120.md" and "posted 120-price window" in longer.read_text()


def test_a_window_the_tables_days_cannot_hold_is_refused(tmp_path: Path) -> None:
    """The scored days leave room for 120 prices before each: a longer window (or one without a return) is
    refused before anything is read or written."""
    for window in (1, loo.LONGEST_WINDOW + 1):
        with pytest.raises(ValueError, match=f"--window {window}"):
            family_reader.run_family_reader(tmp_path, window)
    assert not any(tmp_path.iterdir())
