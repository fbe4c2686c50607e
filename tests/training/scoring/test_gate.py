"""The quality gate: what refuses a model, and what a challenger must beat."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from training.core.csvfile import PriceSeries
from training.core.data import FeatureSeries
from training.core.synthetic import HELD_OUT, SIMULATED, simulate_asset
from training.scoring import family, gate, holdout, metrics


def test_gate_failures() -> None:
    assert gate.gate_failures({"mae": 1.0}, {"mae": 1.0}) == []
    assert gate.gate_failures({"mae": 1.03}, {"mae": 1.0}) == ["MAE is 1.0300x naive (limit 1.02)"]


def series(name: str, days: int) -> FeatureSeries:
    dates = np.arange(days).astype("datetime64[D]")
    prices = np.full(days, 100.0)
    return FeatureSeries(dates, prices[:, None], ["close"], PriceSeries(dates, prices, "close", name, "-"))


def days_of(names: list[str], days: int) -> holdout.Holdout:
    owner = np.repeat(np.arange(len(names)), days)
    n = len(owner)
    return holdout.Holdout(
        [series(s, days) for s in names], [0] * len(names), np.ones((n, 2, 1)), np.ones(n), np.ones(n), owner
    )


def table(model: np.ndarray, rng: np.random.Generator) -> dict:
    base = np.abs(rng.normal(1.0, 0.3, len(model)))
    rows = {
        name: {"pinball_by_day": base * factor}
        for name, factor in zip(holdout.STRONGEST, (1.0, 1.01, 0.99), strict=True)
    }
    return {"model": {"pinball_by_day": model}, **rows}


def test_a_significant_loss_on_one_data_series_is_named_and_a_simulated_path_is_not_gated() -> None:
    rng = np.random.default_rng(0)
    days = days_of(["a.csv", "b.csv", "simulated GARCH-t #1"], 500)
    t = table(np.zeros(1500), rng)
    gjr = t[holdout.GJR]["pinball_by_day"]
    t["model"]["pinball_by_day"] = gjr * np.concatenate([np.full(500, 0.99), np.full(500, 1.10), np.full(500, 1.10)])
    rows = holdout.per_series(t, "model", days)
    assert [r["best_simple"] for r in rows] == [holdout.GJR] * 3
    assert [round(r["ratio_to_best"], 4) for r in rows] == [0.99, 1.1, 1.1]
    assert [r["simulated"] for r in rows] == [False, False, True]
    losses = gate.significant_losses([r for r in rows if not r["simulated"]])
    assert len(losses) == 3 and all(line.startswith("b.csv: pinball 1.") for line in losses)  # worse than all three
    assert "b.csv: pinball 1.1000x GJR-GARCH-skew-t's, significantly worse" in losses[2]
    assert "after Holm across 2 series" in losses[0]
    text = holdout.format_per_series(rows)
    assert "b.csv" in text and "+0.000" in text


def test_holm_keeps_a_marginal_loss_on_one_of_many_series_from_refusing() -> None:
    rng = np.random.default_rng(1)
    names = [f"s{i}.csv" for i in range(8)]
    days = days_of(names, 250)
    t = table(np.zeros(2000), rng)
    noise = np.concatenate([rng.normal(1.0, 0.02, 250) for _ in names])
    t["model"]["pinball_by_day"] = t[holdout.FHS]["pinball_by_day"] * noise
    rows = holdout.per_series(t, "model", days)
    raw = [r["dm"][holdout.FHS]["p_value"] for r in rows]
    adjusted = [r["dm"][holdout.FHS]["p_holm"] for r in rows]
    assert all(a >= p for a, p in zip(adjusted, raw, strict=True))
    assert min(adjusted) == min(1.0, min(raw) * len(names))


def with_scores(t: dict) -> dict:
    """A table's rows with the pooled scores the gate reads beside their daily pinball losses."""
    intervals = {f"coverage_{lv}": {"coverage": lv / 100, "uc_p_value": 0.5} for lv in (80, 95)}
    for row in t.values():
        row |= {"mae": 1.0, "intervals": {**intervals, "pinball_pct": float(np.mean(row["pinball_by_day"]))}}
    return t | {"naive": {"mae": 1.0}}


def test_the_short_window_gate_refuses_a_loss_to_fhs_or_one_significantly_beyond_the_margin() -> None:
    rng = np.random.default_rng(2)
    days = days_of(["a.csv", "b.csv", "simulated GJR-skew-t #1"], 500)
    t = table(np.zeros(1500), rng)
    fhs = t[holdout.FHS]["pinball_by_day"]
    noise = rng.normal(0, 0.05, 1500)
    # level with FHS: 1.01x the GJR's loss (0.99 of FHS), within the margin, not beyond it: passes
    t["model"]["pinball_by_day"] = fhs * (1 + noise)
    assert gate.short_window_gate(with_scores(t), "model", days) == []
    # 6% above FHS on a.csv: a significant loss to FHS and significantly more than 1% behind both GARCHs
    t["model"]["pinball_by_day"] = fhs * (1 + noise + np.repeat([0.06, 0.0, 0.0], 500))
    problems = gate.short_window_gate(with_scores(t), "model", days)
    assert [p.split(" ", 1)[0] + " " + p.split("x ", 1)[1].split("'s")[0] for p in problems] == [
        "a.csv: FHS",
        "a.csv: GARCH(1,1)-t",
        "a.csv: GJR-GARCH-skew-t",
    ]
    assert "significantly more than 1% behind (DM p = " in problems[1] and "across 2 series" in problems[2]


def test_the_short_window_gate_refuses_a_loss_to_the_family_reader_when_the_table_has_it() -> None:
    rng = np.random.default_rng(3)
    days = days_of(["a.csv", "b.csv"], 500)
    t = table(np.zeros(1000), rng)
    fhs = t[holdout.FHS]["pinball_by_day"]
    t["model"]["pinball_by_day"] = fhs * (1 + rng.normal(0, 0.05, 1000))
    assert gate.short_window_gate(with_scores(t), "model", days) == []
    t[holdout.FAMILY] = {"pinball_by_day": fhs * np.repeat([1.0, 0.94], 500)}  # 6% better than FHS on b.csv
    problems = gate.short_window_gate(with_scores(t), "model", days)
    assert len(problems) == 1 and problems[0].startswith("b.csv: pinball 1.06")
    assert "x family reader's, significantly worse (DM p = " in problems[0]


def test_the_rules_name_each_length_gated() -> None:
    assert len(gate.rules(60, 60)) == 1 and gate.rules(60, 60)[0].startswith("60 prices: on no data file's series")
    longest, shortest = gate.rules(60, 1000)
    assert longest.startswith("1000 prices: on no data file's series a significant pinball loss to FHS, GARCH")
    assert shortest.startswith("60 prices: on no data file's series a significant pinball loss to FHS or the family")
    assert "significantly more than 1% behind GARCH-t's or GJR-skew-t's" in shortest


def test_the_family_reader_s_row_reads_the_data_files_days_and_leaves_the_simulated_paths_out() -> None:
    """Its daily pinball on a data file's days is the reader's own loss there; a simulated path's days are NaN."""
    path = simulate_asset(HELD_OUT[0], 400, seed=2)
    real, simulated = (replace(path, target=replace(path.target, source=name)) for name in ("a.csv", "simulated #1"))
    days = holdout.holdout_days([real, simulated], 30, 60)
    levels = (0.1, 0.5, 0.9)
    found = holdout.with_family_reader({}, days, levels)[holdout.FAMILY]["pinball_by_day"]
    q = family.window_quantiles(days.windows[:30, :, 0], levels)
    expected = metrics.relative_pinball_by_day(days.last[:30], days.actual[:30], q, np.array(levels))
    np.testing.assert_allclose(found[:30], expected)
    assert np.isnan(found[30:]).all() and simulated.source.startswith(SIMULATED)
