"""The evaluation report: reports/<name>.md with tables and plots, a JSON of every number, the docs page's block."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import matplotlib

from training.studies.report_tables import fmt, headline, interval_table, point_table, step_table, story_table, verdict

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from training.core.data import FeatureSeries
from training.core.records import BacktestScores, CheckResults
from training.studies.evaluate import Backtest, Evaluation, default_variants, evaluate
from training.studies.jobs import EvaluateJob
from training.studies.readme import replace_block


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
    """reports/<name>.md, its plots and <name>.json; the docs page's block when asked."""
    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(found.result, found.series, found.scores, out, name)
    found.settings.update(name=name, plots=plots)
    (out / f"{name}.md").write_text(markdown(found))
    payload = {"settings": found.settings, **found.scores, **found.extra}
    (out / f"{name}.json").write_text(json.dumps(payload, indent=1))
    if readme:
        replace_block(readme, "report", [readme_block(name, found.scores, found.extra, plots[0])])


def readme_block(name: str, scores: BacktestScores, extra: CheckResults, plot: str) -> str:
    """The docs page's headline table and plot, generated."""
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
    """Runs the backtest and the checks, writes the report (and the docs page's block); returns the headline lines."""
    base = replace(job.backtest.train, progress=False)
    variants = default_variants(base, job.checks.cross) if job.variants else {}
    found = evaluate(replace(job.backtest, train=base, variants=variants), job.checks)
    write_report(found, job.out, job.report_name, job.readme)
    return [*headline(found.scores), f"report: {job.out / (job.report_name + '.md')}"]
