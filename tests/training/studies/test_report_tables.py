"""The walk-forward report's tables: a verdict needs MASE below one and a significant DM test."""

from __future__ import annotations

from training.studies import report


def test_verdict_needs_mase_below_one_and_a_significant_dm() -> None:
    assert report.verdict({"mase": 0.9, "dm_vs_naive": {"statistic": -2.5, "p_value": 0.01}}) == "beats naive"
    assert report.verdict({"mase": 1.1, "dm_vs_naive": {"statistic": -2.5, "p_value": 0.01}}) == (
        "no significant difference"
    )
    assert report.verdict({"mase": 0.9, "dm_vs_naive": {"statistic": -1.0, "p_value": 0.3}}) == (
        "no significant difference"
    )
    assert report.verdict({"mase": 0.9, "dm_vs_naive": {"statistic": 3.0, "p_value": 0.003}}) == "worse than naive"
