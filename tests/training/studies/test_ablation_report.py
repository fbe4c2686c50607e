"""The ablation's tables: rows of the current default by length, rows of an earlier default apart, and the cost."""

from __future__ import annotations

from typing import Any

from training.studies import ablation_report, loo


def series(name: str, ratio: float, p: float, c80: float = 0.8) -> dict[str, Any]:
    best = loo.holdout.GJR
    dm = {o: {"statistic": ratio - 1, "p_holm": p} for o in loo.STRONGEST}
    return {
        "series": name,
        "ratio_to_best": ratio,
        "best_simple": best,
        "coverage_80": c80,
        "coverage_95": 0.95,
        "dm": dm,
    }


def verdicts(found: list[dict[str, Any]], wins: list[str], losses: list[str]) -> dict[str, Any]:
    return {
        "series": found,
        "wins_over_fhs_and_garch_t": wins,
        "wins": {o: wins for o in loo.STRONGEST},
        "significant_losses": losses,
    }


def row(name: str, protocol: str, ratios: dict[str, float], fixed: bool = False) -> dict[str, Any]:
    by_length = {
        n: verdicts([series("a", r, 0.01), series("b", 1.0, 0.5, 0.76)], ["a"] if r < 1 else [], [] if r < 1 else ["a"])
        for n, r in ratios.items()
    }
    base = {"name": name, "suggestion": "-", "protocol": protocol, "minutes": 40.0, "train_seconds": 100.0}
    if fixed:  # an earlier default's row: one length, its verdicts at the top
        return {**base, **by_length["60"], "windows_per_second": {"60": 2e4}}
    return {**base, "lengths": by_length, "windows_per_second": {"60": 2e4, "1000": 6e3}}


def test_the_current_rows_are_tabled_at_the_shortest_and_the_longest_length_and_earlier_rows_apart() -> None:
    measured = [
        row("default", "now", {"60": 0.99, "250": 0.98, "1000": 1.01}),
        row("reads 250", "now", {"60": 1.0, "250": 1.0, "1000": 0.97}),
        row("default", "before", {"60": 1.02}, fixed=True),
    ]
    assert [m["name"] for m in ablation_report.current(measured)] == ["default", "reads 250"]
    assert [m["protocol"] for m in ablation_report.earlier(measured)] == ["before"]
    text = "\n".join(ablation_report.current_tables(measured, ["network reads all"]))
    assert "**At 60 prices**" in text and "**At 1000 prices**" in text and "**At 250 prices**" not in text
    assert "| default | - | 0.9950 (2 series) | 1: a | 1: a | 0: - | 0.760-0.800 / 0.950-0.950 |" in text
    assert "| default | - | 1.0050 (2 series) | 0: - | 0: - | 1: a | 0.760-0.800 / 0.950-0.950 |" in text
    assert "| reads 250 | 100 | 20,000 | 6,000 | 40 |" in text
    assert "Not measured yet: network reads all." in text
    assert "before" not in text


def test_the_report_keeps_each_earlier_default_s_rows_with_their_own_tables(tmp_path: Any) -> None:
    measured = [
        row("default", "now", {"60": 0.99, "1000": 1.01}),
        row("default", "last", {"60": 0.98, "1000": 1.03}),
        row("reads 250", "last", {"60": 0.97, "1000": 1.04}),
        row("default", "before", {"60": 1.02}, fixed=True),
    ]
    ablation_report.write(tmp_path, measured, [])
    text = (tmp_path / "ablation.md").read_text()
    earlier = text[text.index("## Rows measured on earlier defaults") :]
    last, before = (
        earlier[: earlier.index("### Measured on: before")],
        earlier[earlier.index("### Measured on: before") :],
    )
    assert last.startswith("## Rows measured on earlier defaults\n\n### Measured on: last\n")
    assert (
        "**At 60 prices**" in last and "**At 1000 prices**" in last and "| reads 250 | - | 0.9850 (2 series) |" in last
    )
    assert "#### Ratio to the best simple method at 1000 prices" in last and "**1.0400**" in last
    assert "| default | - | 1.0100 (2 series) |" in before and "**Verdicts**" in before
    assert "| row | a | b |" in before and "**1.0200**" in before  # significant on a, either way
    assert "Not measured yet" not in text
