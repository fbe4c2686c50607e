"""The walk-forward report's tables and verdicts, as markdown lines."""

from __future__ import annotations

from typing import Any

import numpy as np

from training.core.records import BacktestScores, CheckResults, Segment
from training.scoring.holdout import BASELINES

SIGNIFICANCE = 0.05


def fmt(value: object, spec: str = ".3f") -> str:
    """A number for a table, or n/a."""
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else format(value, spec)


def verdict(row: dict[str, Any]) -> str:
    """'beats naive' only with MASE < 1 and a significant Diebold-Mariano test in the model's favour."""
    dm = row.get("dm_vs_naive")
    if dm is None:
        return "-"
    if row["mase"] < 1 and dm["p_value"] < SIGNIFICANCE and dm["statistic"] < 0:
        return "beats naive"
    if dm["p_value"] < SIGNIFICANCE and dm["statistic"] > 0:
        return "worse than naive"
    return "no significant difference"


def point_table(segment: Segment) -> list[str]:
    """Point-forecast metrics of every forecaster in one segment."""
    lines = [
        "| forecaster | MAE | RMSE | MAPE % | MASE | ret. MAE | ret. RMSE | dir. acc. (p) | DM vs naive (p) "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in segment["forecasters"].items():
        d = r["direction"]
        direction = "n/a" if not d["n"] else f"{d['hits'] / d['n']:.3f} ({fmt(d['p_value'], '.2f')})"
        dm = r.get("dm_vs_naive")
        dm_text = "-" if dm is None else f"{dm['statistic']:+.2f} ({dm['p_value']:.2f})"
        lines.append(
            f"| {name} | {r['mae']:.2f} | {r['rmse']:.2f} | {r['mape']:.3f} | {r['mase']:.4f} | "
            f"{r['return_mae'] * 100:.3f}% | {r['return_rmse'] * 100:.3f}% | {direction} | {dm_text} | "
            f"{verdict(r)} |"
        )
    lines.append(f"| always up | | | | | | | {segment['always_up_accuracy']:.3f} | | |")
    return lines


def interval_table(segment: Segment) -> list[str]:
    """Coverage with Kupiec (UC) and Christoffersen (IND) p-values, width, pinball, Winkler and DM vs GARCH-t
    of every interval forecaster; widths, pinball and Winkler in % of the last price."""
    lines = [
        "| forecaster | 80% cov. (Kupiec p, IND p) | 80% width % | 95% cov. (Kupiec p, IND p) | 95% width % "
        "| pinball % | Winkler 80% % | DM pinball vs GARCH-t (p) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in segment["forecasters"].items():
        iv = r.get("intervals")
        if not iv:
            continue
        cells = []
        for level in ("80", "95"):
            c = iv.get(f"coverage_{level}")
            cells += (
                ["n/a", "n/a"]
                if c is None
                else [
                    f"{c['coverage']:.3f} ({c['uc_p_value']:.2f}, {c['ind_p_value']:.2f})",
                    fmt(c.get("mean_width_pct")),
                ]
            )
        winkler = (iv.get("coverage_80") or {}).get("winkler_pct")
        dm = r.get("dm_pinball_vs_garch")
        dm_text = "-" if dm is None else f"{dm['statistic']:+.2f} ({dm['p_value']:.2f})"
        lines.append(
            f"| {name} | {' | '.join(cells)} | {fmt(iv.get('pinball_pct'), '.4f')} | {fmt(winkler)} | {dm_text} |"
        )
    return lines


def step_table(segment: Segment) -> list[str]:
    """MAE per step ahead for a multi-day model, next to naive's."""
    steps = segment["forecasters"]["model"].get("mae_by_step")
    if not steps:
        return []
    lines = ["| step ahead | model MAE | naive MAE | ratio |", "|---|---|---|---|"]
    lines += [f"| {s['step']} | {s['model']:.2f} | {s['naive']:.2f} | {s['model'] / s['naive']:.4f} |" for s in steps]
    return [*lines, ""]


def headline(scores: BacktestScores) -> list[str]:
    """The sentence the docs and the report lead with, from the numbers."""
    model = scores["holdout"]["forecasters"]["model"]
    naive = scores["holdout"]["forecasters"]["naive"]
    iv = model.get("intervals", {})
    ratio = model["mae"] / naive["mae"]
    dm = model["dm_vs_naive"]
    if verdict(model) == "beats naive":
        claim = (
            f"the model **beats naive persistence** (MAE ratio {ratio:.4f}, MASE {model['mase']:.3f}, "
            f"DM p = {dm['p_value']:.3f})"
        )
    else:
        claim = (
            f"the point forecast **matches the random walk**: MAE {ratio:.4f}x naive persistence, "
            f"Diebold-Mariano p = {dm['p_value']:.2f} (no significant difference); the model's value is "
            "in its calibrated intervals"
        )
    cov = ", ".join(
        f"{lvl}% interval coverage {iv[f'coverage_{lvl}']['coverage']:.3f}"
        for lvl in ("80", "95")
        if f"coverage_{lvl}" in iv
    )
    return [
        f"On the final hold-out ({scores['holdout']['start']} .. {scores['holdout']['end']}, "
        f"{scores['holdout']['days']} trading days, never used to choose any setting), {claim}; {cov}."
    ]


INTERVAL_ROWS = ("model", *BASELINES)


TARGETS = {"80": (0.78, 0.82), "95": (0.94, 0.96)}  # the model's coverage targets; pinball <= GARCH-t's


def interval_checks(scores: BacktestScores, extra: CheckResults) -> dict[str, dict]:
    """The segments the interval story is told on: S&P walk-forward, cross-asset, synthetic assets."""
    checks = {
        f"{scores['all']['series']} walk-forward ({scores['all']['start']} .. {scores['all']['end']})": scores["all"]
    }
    if "cross_asset" in extra:
        c = extra["cross_asset"]
        checks[f"{c['series']}, cross-asset ({c['start']} .. {c['end']})"] = c
    for name, segment in extra.get("synthetic", {}).items():
        checks[f"{name} ({segment['days']} days)"] = segment
    return checks


def story_table(scores: BacktestScores, extra: CheckResults) -> list[str]:
    """The model next to GARCH-t, GJR-skew-t, FHS and EWMA on every check: coverage, pinball, targets."""
    lines = [
        "| series | method | 80% cov. | 95% cov. | pinball % | vs GARCH-t | targets met |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, segment in interval_checks(scores, extra).items():
        rows = segment["forecasters"]
        garch = rows["naive + GARCH(1,1)-t"]["intervals"]["pinball_pct"]
        for name in INTERVAL_ROWS:
            iv = rows[name]["intervals"]
            cov = {lvl: iv[f"coverage_{lvl}"]["coverage"] for lvl in ("80", "95")}
            ratio = iv["pinball_pct"] / garch
            met = "-"
            if name == "model":
                misses = [f"{lvl}%" for lvl, (lo, hi) in TARGETS.items() if not lo <= cov[lvl] <= hi]
                misses += ["pinball"] if ratio > 1.0 else []
                met = "yes" if not misses else "no: " + ", ".join(misses)
            lines.append(
                f"| {label} | {name} | {cov['80']:.3f} | {cov['95']:.3f} | {iv['pinball_pct']:.4f} | "
                f"{ratio:.4f}x | {met} |"
            )
    return lines
