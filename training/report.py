"""The evaluation report: reports/<name>.md with tables and plots, a JSON of every number, the README block."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from training.config import EvaluateJob
from training.data import FeatureSeries
from training.evaluate import Backtest, Evaluation, default_variants, evaluate
from training.holdout import BASELINES
from training.readme import replace_block
from training.tables import BacktestScores, CheckResults, Segment

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
    """The sentence the README and the report lead with, from the numbers."""
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


def write_plots(result: Backtest, series: FeatureSeries, scores: BacktestScores, out: Path, name: str) -> list[str]:
    """Hold-out forecasts with the 80% band, error distributions, and the calibration plot."""
    hold = result.targets >= result.holdout_start
    targets = result.targets[hold]
    days = series.dates[targets].astype("datetime64[D]").astype(object)
    model = result.forecasts["model"]
    levels = list(model.levels)
    files = []
    fig, ax = plt.subplots(figsize=(11, 5), dpi=100)
    if model.quantiles is not None and 0.1 in levels and 0.9 in levels:
        ax.fill_between(
            days,
            model.quantiles[hold, levels.index(0.1)],
            model.quantiles[hold, levels.index(0.9)],
            color="tab:blue",
            alpha=0.15,
            label="model 80% interval",
        )
    ax.plot(days, series.prices[targets], color="black", lw=1.3, label="actual")
    ax.plot(days, model.point[hold], color="tab:blue", lw=1.0, label="model (median)")
    ax.plot(days, series.prices[targets - 1], color="tab:orange", lw=1.0, ls="--", label="naive")
    ax.set_title(f"{name}: final hold-out, walk-forward forecasts")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    files.append(save(fig, out / f"{name}_forecast.png"))
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    actual = series.prices[result.targets]
    for label in ("model", "naive"):
        errors = np.log(result.forecasts[label].point / actual) * 100
        ax.hist(errors, bins=60, alpha=0.5, label=label)
    ax.set_xlabel("forecast error, % of price (log)")
    ax.set_title(f"{name}: error distribution, all walk-forward days")
    ax.legend()
    files.append(save(fig, out / f"{name}_errors.png"))
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", label="perfect calibration")
    for label, row in scores["all"]["forecasters"].items():
        if "calibration" in row:
            ax.plot(levels, row["calibration"], marker="o", label=label)
    ax.set_xlabel("nominal quantile level")
    ax.set_ylabel("share of actual prices at or below that quantile")
    ax.set_title(f"{name}: calibration, all walk-forward days")
    ax.legend(fontsize=8)
    files.append(save(fig, out / f"{name}_calibration.png"))
    return files


def save(fig: plt.Figure, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path.name


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


def markdown(found: Evaluation) -> str:
    """The whole report."""
    scores, extra, name = found.scores, found.extra, found.settings["name"]
    lines = [f"# Walk-forward evaluation: {name}", "", *headline(scores), "", f"Settings: {json.dumps(found.settings)}"]
    lines += [
        "",
        "## Intervals: the model next to GARCH(1,1)-t, GJR-GARCH-skew-t, FHS and EWMA",
        "",
        *story_table(scores, extra),
        "",
    ]
    for key, title in (("walk_forward", "Walk-forward period"), ("holdout", "Final hold-out"), ("all", "All days")):
        seg = scores[key]
        lines += [
            f"## {title}: {seg['start']} .. {seg['end']} ({seg['days']} days, up share {seg['up_share']:.3f})",
            "",
            *point_table(seg),
            "",
            *interval_table(seg),
            "",
            *step_table(seg),
        ]
    if "cross_asset" in extra:
        c = extra["cross_asset"]
        lines += [
            f"## Cross-asset: the fold models on {c['series']}, which they never saw ({c['days']} days)",
            "",
            *interval_table(c),
            "",
            f"Point forecast: MAE {c['forecasters']['model']['mae']:.2f}, naive "
            f"{c['forecasters']['naive']['mae']:.2f}.",
            "",
        ]
    for asset, segment in extra.get("synthetic", {}).items():
        lines += [
            f"## Synthetic: {asset}, GARCH(1,1)-t simulated with arch ({segment['days']} days; the model is the last "
            "walk-forward fold's)",
            "",
            *interval_table(segment),
            "",
        ]
    if "out_of_range" in extra:
        o = extra["out_of_range"]
        lines += [
            f"## Out of range: trained up to {o['train_end']} (max price {o['training_max']:.2f}), "
            f"scored {o['test_start']} .. {o['test_end']} ({o['share_above_training_max']:.0%} of days above "
            "that maximum)",
            "",
            "| | MAE | MAE ratio to naive | MAPE % |",
            "|---|---|---|---|",
        ]
        for label, r in o["models"].items():
            lines.append(f"| {label} | {r['model']['mae']:.2f} | {r['mae_ratio']:.4f} | {r['model']['mape']:.3f} |")
        lines.append("")
    lines += ["## Plots", "", *[f"![{p}]({p})" for p in found.settings["plots"]], ""]
    return "\n".join(lines)


def write_report(found: Evaluation, out: Path, name: str, readme: Path | None) -> None:
    """reports/<name>.md, its plots and <name>.json; the README block when asked."""
    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(found.result, found.series, found.scores, out, name)
    found.settings.update(name=name, plots=plots)
    (out / f"{name}.md").write_text(markdown(found))
    payload = {"settings": found.settings, **found.scores, **found.extra}
    (out / f"{name}.json").write_text(json.dumps(payload, indent=1))
    if readme:
        replace_block(readme, "report", [readme_block(name, found.scores, found.extra, plots[0])])


def readme_block(name: str, scores: BacktestScores, extra: CheckResults, plot: str) -> str:
    """The README's headline table and plot, generated."""
    seg = scores["holdout"]
    rows = [
        "| forecaster | MAE | MASE | dir. acc. | DM vs naive (p) | 80% cov. | 95% cov. | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in seg["forecasters"].items():
        iv = r.get("intervals", {})
        cov = [fmt(iv[f"coverage_{lvl}"]["coverage"]) if f"coverage_{lvl}" in iv else "" for lvl in ("80", "95")]
        dm = r.get("dm_vs_naive")
        d = r["direction"]
        rows.append(
            f"| {label} | {r['mae']:.2f} | {r['mase']:.4f} | "
            f"{fmt(d['hits'] / d['n']) if d['n'] else 'n/a'} | "
            f"{'-' if dm is None else format(dm['p_value'], '.2f')} | {cov[0]} | {cov[1]} | {verdict(r)} |"
        )
    return "\n".join(
        [
            f"Generated by `make report` (reports/{name}.md).",
            "",
            *headline(scores),
            "",
            *rows,
            "",
            "Intervals next to the strongest simple methods (targets: 80% coverage 0.78-0.82, 95% coverage "
            "0.94-0.96, pinball loss at most GARCH-t's):",
            "",
            *story_table(scores, extra),
            "",
            f"![hold-out forecasts](reports/{plot})",
        ]
    )


def evaluate_and_report(job: EvaluateJob) -> list[str]:
    """Runs the backtest and the checks, writes the report (and README block); returns the headline lines."""
    base = replace(job.backtest.train, progress=False)
    variants = default_variants(base, job.checks.cross) if job.variants else {}
    found = evaluate(replace(job.backtest, train=base, variants=variants), job.checks)
    write_report(found, job.out, job.report_name, job.readme)
    return [*headline(found.scores), f"report: {job.out / (job.report_name + '.md')}"]
