"""The quality gate, the one home of the publish policy: what a model must pass to ship (`train`, `retrain`,
the bundled default) and what a challenger must beat to replace the champion."""

from __future__ import annotations

from typing import Any

import numpy as np

from training.core.config import RetrainConfig
from training.core.records import DMTest, IntervalScores, PointScores, ScoreTable
from training.core.synthetic import SIMULATED
from training.scoring import significance
from training.scoring.holdout import FAMILY, FHS, GARCH_T, GJR, Holdout, dm_pinball, per_series

MAX_MAE_RATIO = 1.02  # the point forecast against naive persistence, pooled
KUPIEC_ALPHA = 0.05  # 80% and 95% coverage must not be rejected by Kupiec's test at this level
MAX_PINBALL_RATIO = 1.02  # pooled pinball against GARCH(1,1)-t on the same days
SHORT_MARGIN = 0.01  # at the shortest window: pinball at most 1% above each GARCH's on every data file's series
GATE_ALPHA = 0.05  # Holm-adjusted DM p-value below which a loss to one of holdout.STRONGEST refuses the model
SIGNIFICANCE = 0.05  # a challenger's pinball gain whose DM p-value is not below this keeps the champion
LIVE_DAYS = 250  # a series' last N scored live days: judged once it has them
LIVE_ALPHA = 0.01  # Kupiec's p of the champion's live coverage below this on LIVE_DAYS is a reason to retrain


def interval_gate_failures(model: IntervalScores, garch: IntervalScores) -> list[str]:
    """Why intervals must not ship: 80%/95% coverage rejected by Kupiec at 5%, or pinball > 1.02x GARCH-t's."""
    problems = []
    for level in ("80", "95"):
        found = model.get(f"coverage_{level}")
        if found is not None and found["uc_p_value"] < KUPIEC_ALPHA:
            problems.append(
                f"{level}% coverage {found['coverage']:.3f} rejected by Kupiec (p = {found['uc_p_value']:.3f} < "
                f"{KUPIEC_ALPHA})"
            )
    ratio = model["pinball_pct"] / garch["pinball_pct"]
    if ratio > MAX_PINBALL_RATIO:
        problems.append(f"pinball loss {ratio:.4f}x GARCH(1,1)-t's (limit {MAX_PINBALL_RATIO})")
    return problems


def gate_failures(model: PointScores, naive: PointScores) -> list[str]:
    """Why a point forecast must not ship: MAE worse than naive persistence's by more than 2%."""
    ratio = model["mae"] / naive["mae"]
    return [f"MAE is {ratio:.4f}x naive (limit {MAX_MAE_RATIO})"] if ratio > MAX_MAE_RATIO else []


def gate(table: ScoreTable, name: str, days: Holdout) -> list[str]:
    """The quality gate for one scored model: MAE vs naive, Kupiec coverage, pinball vs GARCH-t pooled, and on
    every data file's series no significant loss (Holm-adjusted DM p < 0.05) to FHS, GARCH-t or GJR-skew-t.

    Simulated training paths are scored and shown but not gated: on a path whose volatility barely moves, a
    GARCH fitted on 1,000 of its days knows the level that a 60-price window can only estimate (the
    leave-one-asset-out report measures that cost on held-out simulated assets)."""
    row = table[name]
    problems = gate_failures(row, table["naive"])
    if "intervals" in row:
        problems += interval_gate_failures(row["intervals"], table[GARCH_T]["intervals"])
        problems += significant_losses([r for r in per_series(table, name, days) if not r["simulated"]])
    return problems


def significant_losses(rows: list[dict[str, Any]], against: tuple[str, ...] | None = None) -> list[str]:
    """Each series on which the model is significantly worse than one of the strongest simple methods (or of
    those `against` names)."""
    return [
        f"{r['series']}: pinball {r['pinball_pct'][r['model']] / r['pinball_pct'][other]:.4f}x "
        f"{other.removeprefix('naive + ')}'s, significantly worse (DM p = {t['p_holm']:.3g} after Holm across "
        f"{len(rows)} series, < {GATE_ALPHA})"
        for r in rows
        for other, t in r["dm"].items()
        if (against is None or other in against) and t["statistic"] > 0 and t["p_holm"] < GATE_ALPHA
    ]


def short_window_gate(table: ScoreTable, name: str, days: Holdout) -> list[str]:
    """The gate for the shortest window, stated against what it allows: MAE and Kupiec as always; on every data
    file's series no significant loss to FHS or the family reader (the table's FAMILY row, when it has one), which
    read the same prices, and none beyond 1% of GARCH-t's or GJR-skew-t's, which read 1,000 days: Diebold-Mariano
    of the model's daily pinball against 1.01 times theirs, Holm-adjusted across the series (a margin judged on
    250 days must be a test, not a ratio)."""
    row = table[name]
    problems = gate_failures(row, table["naive"])
    if "intervals" not in row:
        return problems
    problems += interval_gate_failures(row["intervals"], table[GARCH_T]["intervals"])
    margins = {FHS: 0.0, FAMILY: 0.0, GARCH_T: SHORT_MARGIN, GJR: SHORT_MARGIN}
    for other, margin in margins.items():
        if other in table:
            problems += margin_losses(table, name, other, days, margin)
    return problems


def margin_losses(table: ScoreTable, name: str, other: str, days: Holdout, margin: float) -> list[str]:
    """Each data file's series on which the model's daily pinball is significantly above (1 + margin) times the
    other's (DM, Holm across those series)."""
    real = [i for i, s in enumerate(days.series) if not s.source.startswith(SIMULATED)]
    tests = [margin_test(table, name, other, days.owner == i, margin) for i in real]
    found = []
    for i, t, p in zip(real, tests, significance.holm([t["p_value"] for t in tests]), strict=True):
        if t["statistic"] > 0 and p < GATE_ALPHA:
            mine, theirs = (table[n]["pinball_by_day"][days.owner == i].mean() for n in (name, other))
            how = f"more than {margin:.0%} behind" if margin else "worse"
            found.append(
                f"{days.series[i].source}: pinball {mine / theirs:.4f}x {other.removeprefix('naive + ')}'s, "
                f"significantly {how} (DM p = {p:.3g} after Holm across {len(real)} series, < {GATE_ALPHA})"
            )
    return found


def margin_test(table: ScoreTable, name: str, other: str, rows: np.ndarray, margin: float) -> DMTest:
    """DM test of the model's daily pinball against the other's plus the margin, on some days."""
    model, theirs = table[name]["pinball_by_day"][rows], table[other]["pinball_by_day"][rows]
    return significance.diebold_mariano_hac(model, (1 + margin) * theirs)


def rules(window: int, max_window: int) -> list[str]:
    """The gate in words, as the card and the page state it: one rule per length gated."""
    strict = (
        "on no data file's series a significant pinball loss to FHS, GARCH(1,1)-t or GJR-GARCH-skew-t (Diebold-"
        f"Mariano, Holm, p < {GATE_ALPHA}); pooled pinball at most {MAX_PINBALL_RATIO}x GARCH-t's"
    )
    common = f"80%/95% coverage not rejected by Kupiec at {KUPIEC_ALPHA}; MAE at most {MAX_MAE_RATIO}x naive's"
    if max_window <= window:
        return [f"{window} prices: {strict}; {common}"]
    return [
        f"{max_window} prices: {strict}; {common}",
        f"{window} prices: on no data file's series a significant pinball loss to FHS or the family reader (which "
        "read the same prices), "
        f"nor one significantly more than {SHORT_MARGIN:.0%} behind GARCH-t's or GJR-skew-t's (which read 1,000 "
        f"days); {common}",
    ]


def decide(
    table: ScoreTable, config: RetrainConfig, champion_problem: str, days: Holdout, other_series: list[str]
) -> tuple[bool, str]:
    """Forced: promote. Else the challenger must pass the gate; a challenger trained on other series than the
    champion needs --allow-other-series; then it must beat the champion's pinball loss by at least
    min_improvement (relative), significantly. With no scorable champion, passing the gate is enough."""
    if config.force:
        return True, "forced (--force)"
    problems = gate(table, "challenger", days) if config.gate else []
    if problems:
        return False, "quality gate: " + "; ".join(problems)
    if "champion" not in table:
        return True, champion_problem
    if other_series and not config.allow_other_series:
        return False, (
            "a change of purpose: the challenger and the champion were trained on different series "
            f"({'; '.join(other_series)}); --allow-other-series promotes it"
        )
    improvement, dm = pinball_improvement(table), dm_pinball(table, "challenger", "champion")
    found = f"pinball improvement {improvement:+.3%} on {days.days} days of {len(days.series)} series"
    return improvement_verdict(improvement, dm, found, config.min_improvement)


def improvement_verdict(improvement: float, dm: DMTest | None, found: str, min_improvement: float) -> tuple[bool, str]:
    """The champion falls to a pinball improvement of at least min_improvement that is significant (DM p <
    SIGNIFICANCE): on the holdout, where it decides, and on the live record, where it is reported beside."""
    if improvement < min_improvement:
        return False, f"{found} < required {min_improvement:.3%}"
    if dm is None or dm["p_value"] >= SIGNIFICANCE:
        p = "n/a" if dm is None else f"{dm['p_value']:.3f}"
        return False, f"{found}, not significant (Diebold-Mariano p = {p} >= {SIGNIFICANCE}); --force promotes it"
    return True, f"{found} >= required {min_improvement:.3%}, significant (Diebold-Mariano p = {dm['p_value']:.3f})"


def pinball_improvement(table: ScoreTable) -> float:
    """1 - challenger's pinball / champion's (positive: the challenger is better)."""
    return 1.0 - table["challenger"]["intervals"]["pinball_pct"] / table["champion"]["intervals"]["pinball_pct"]
