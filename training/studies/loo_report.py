"""The leave-one-asset-out report: reports/<name>.md and .json, and the docs page's generated block."""

from __future__ import annotations

import json
import time
from typing import Any

from training.core.config import TrainConfig
from training.core.data import load_training_data
from training.studies import loo
from training.studies.jobs import EvaluateJob
from training.studies.readme import replace_block

SHORT = {name: name.removeprefix("naive + ") for name in (*loo.STRONGEST, loo.FAMILY)}


def dm_cell(row: dict[str, Any], other: str) -> str:
    """'0.987 (p 0.004)': the model's pinball over the baseline's, and the Holm-adjusted DM p-value."""
    p = row["dm"][other]["p_holm"]
    mark = "**" if p < loo.ALPHA else ""
    return f"{mark}{row['ratio'][other]:.4f} (p {p:.3f}){mark}"


def summary_table(rows: list[dict[str, Any]]) -> list[str]:
    """One line per held-out series: coverage, pinball, ratios to the strongest simple methods (and to the family
    reader where the rows have it)."""
    against = list(rows[0]["dm"]) if rows else list(loo.STRONGEST)
    lines = [
        "| held-out series | days | 80% / 95% coverage | pinball % | vs "
        + " | vs ".join(SHORT[o] for o in against)
        + " |",
        "|---|---|---|---|" + "---|" * len(against),
    ]
    for r in rows:
        iv = r["forecasters"]["model"]["intervals"]
        cov = f"{iv['coverage_80']['coverage']:.3f} / {iv['coverage_95']['coverage']:.3f}"
        cells = " | ".join(dm_cell(r, o) for o in against)
        lines.append(f"| {r['series']} | {r['days']:,} | {cov} | {iv['pinball_pct']:.4f} | {cells} |")
    return lines


def detail_table(row: dict[str, Any], levels: tuple[float, ...]) -> list[str]:
    """Every forecaster on one series: coverage tests, DQ tests, pinball per level and overall."""
    head = " | ".join(f"pinball {lv:g}" for lv in levels)
    lines = [
        f"| forecaster | 80% cov. (Kupiec p, Christoffersen p) | 95% cov. (Kupiec p, Christoffersen p) "
        f"| DQ p 10% / 90% | {head} | pinball % |",
        "|---|---|---|---|" + "---|" * len(levels) + "---|",
    ]
    for name, f in row["forecasters"].items():
        iv = f["intervals"]
        cov = [
            f"{c['coverage']:.3f} ({c['uc_p_value']:.2f}, {c['ind_p_value']:.2f})"
            for c in (iv["coverage_80"], iv["coverage_95"])
        ]
        dq = " / ".join(f"{p:.2f}" for p in f["dq_p_value"].values())
        per_level = " | ".join(f"{v:.4f}" for v in f["pinball_by_level"])
        lines.append(f"| {name} | {cov[0]} | {cov[1]} | {dq} | {per_level} | {iv['pinball_pct']:.4f} |")
    return lines


def verdict_lines(found: dict[str, Any]) -> list[str]:
    """The issue's three questions, answered from the table."""
    losses = found["significant_losses"]
    both = found["wins_over_fhs_and_garch_t"]
    outside = found["coverage_outside"]
    return [
        f"- Significantly worse than FHS, GARCH-t or GJR-skew-t (DM p < {loo.ALPHA} after Holm): "
        + (", ".join(losses) if losses else "nowhere")
        + ".",
        "- Significantly better than both FHS and GARCH-t: " + (", ".join(both) if both else "on no series") + ".",
        "- Significantly better than GJR-skew-t: "
        + (", ".join(found["wins"][loo.holdout.GJR]) or "on no series")
        + ".",
        "- Coverage outside 0.77-0.83 (80%) or 0.93-0.97 (95%): " + (", ".join(outside) if outside else "none") + ".",
    ]


def short_verdicts(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """At the shortest window: significant losses to what reads the same prices (FHS, the family reader), and
    where the model is more than 1% behind a GARCH fitted on 1,000 days."""
    return {
        "significant_losses": [
            f"{r['series']} vs {SHORT[o]}"
            for r in rows
            for o in loo.SHORT_YARDSTICKS
            if o in r["dm"] and r["dm"][o]["statistic"] > 0 and r["dm"][o]["p_holm"] < loo.ALPHA
        ],
        "beyond_margin": [
            f"{r['series']} vs {SHORT[o]} ({r['ratio'][o]:.4f})"
            for r in rows
            for o in (loo.holdout.GARCH_T, loo.holdout.GJR)
            if r["ratio"][o] > 1 + loo.MARGIN
        ],
    }


def short_lines(found: dict[str, list[str]]) -> list[str]:
    """The shortest window's gate, in words."""
    losses, behind = found["significant_losses"], found["beyond_margin"]
    return [
        f"- Significantly worse than FHS or the family reader (DM p < {loo.ALPHA} after Holm): "
        + (", ".join(losses) if losses else "nowhere")
        + ".",
        f"- More than {loo.MARGIN:.0%} behind GARCH-t or GJR-skew-t: "
        + (", ".join(behind) if behind else "nowhere")
        + ".",
    ]


def length_sections(by_length: dict[int, list[dict[str, Any]]]) -> list[str]:
    """A table and its verdicts for every posted length, the longest first."""
    lines: list[str] = []
    for n in sorted(by_length, reverse=True):
        rows = by_length[n]
        extra = short_lines(short_verdicts(rows)) if n == min(by_length) else []
        lines += [f"## {n} prices posted", "", *summary_table(rows), "", *verdict_lines(loo.verdicts(rows)), *extra, ""]
    return lines


def markdown(rows: list[dict[str, Any]], found: dict[str, Any], settings: dict[str, Any]) -> str:
    """The whole report."""
    levels = tuple(settings["quantiles"])
    by_length = settings.get("by_length") or {0: rows}
    lines = [
        "# Leave-one-asset-out: the model on series it never saw",
        "",
        f"Generated by `python -m training evaluate --leave-one-out` ({settings['minutes']:.0f} minutes, "
        f"{settings['jobs']} folds side by side). Each real series is scored by a model trained on every other "
        "bundled series and the simulated paths, never on it; the held-out simulated assets (parameters no "
        "training path used) by the model trained on all of them. Every series is scored on its newest days "
        f"(at most {loo.MAX_DAYS:,}), each simple method reading only prices before each day: FHS (the posted "
        "window's EWMA sigma times the S&P 500's standardised quantiles), GARCH(1,1)-t and GJR-GARCH(1,1,1)-"
        f"skew-t refitted every 250 days on the {loo.FIT_DAYS:,} returns before, and RiskMetrics EWMA. Pinball "
        "loss is in % of the last price, averaged over the levels; ratios are the model's loss over the "
        "method's; p is Diebold-Mariano on the daily losses (Newey-West, 5 lags), Holm-adjusted across the "
        "series; bold where p < 0.05.",
        "",
        "The same model is scored on the same days with the newest "
        + ", ".join(str(n) for n in sorted(by_length))
        + " prices posted (FHS reads the same prices; the GARCHs their 1,000 returns whatever is posted). With the "
        "shortest window the yardsticks also include the Bayes reader of that window that knows the model family "
        "(reports/family_reader.md, even prior over asset types): the strongest method that reads the same prices. "
        "Per-level scores below are for the longest window.",
        "",
        f"Model: {settings['architecture']}.",
        "",
        *(length_sections(by_length) if len(by_length) > 1 else [*summary_table(rows), "", *verdict_lines(found), ""]),
    ]
    for r in rows:
        lines += [
            f"## {r['series']} ({r['start']} .. {r['end']}, {r['days']:,} days)",
            "",
            *detail_table(r, levels),
            "",
        ]
    return "\n".join(lines)


def readme_block(
    rows: list[dict[str, Any]], found: dict[str, Any], name: str, short: list[dict[str, Any]]
) -> list[str]:
    """The docs page's generated summary: the table with the longest window, then with the shortest."""
    lines = [f"Generated by `make report` (reports/{name}.md). With the longest window posted:", ""]
    lines += [*summary_table(rows), "", *verdict_lines(found)]
    if short and short is not rows:
        lines += [
            "",
            "With the shortest window posted:",
            "",
            *summary_table(short),
            "",
            *verdict_lines(loo.verdicts(short)),
        ]
        lines += short_lines(short_verdicts(short))
    return lines


def leave_one_out_report(job: EvaluateJob) -> list[str]:
    """Runs the protocol on the job's training config and writes reports/<name>.md and .json."""
    config = job.backtest.train
    started = time.monotonic()
    outcome = loo.run(config, load_training_data(config), job.out / ".cache", job.jobs)
    longest, shortest = max(outcome.by_length), min(outcome.by_length)
    rows, found = outcome.by_length[longest], loo.verdicts(outcome.by_length[longest])
    settings = {
        "minutes": (time.monotonic() - started) / 60,
        "train_seconds": outcome.train_seconds,
        "windows_per_second": {str(n): v for n, v in outcome.speeds.items()},
        "jobs": job.jobs or "all CPUs'",
        "quantiles": list(config.model.quantiles),
        "architecture": architecture(config),
    }
    job.out.mkdir(parents=True, exist_ok=True)
    (job.out / f"{job.report_name}.md").write_text(markdown(rows, found, {**settings, "by_length": outcome.by_length}))
    lengths = {str(n): {"series": r, **loo.verdicts(r)} for n, r in outcome.by_length.items()}
    lengths[str(shortest)]["short"] = short_verdicts(outcome.by_length[shortest])
    (job.out / f"{job.report_name}.json").write_text(
        json.dumps({"settings": settings, "series": rows, **found, "lengths": lengths}, indent=1)
    )
    short = outcome.by_length[shortest]
    if job.readme:
        replace_block(job.readme, "loo", readme_block(rows, found, job.report_name, short))
    return [*length_sections(outcome.by_length), f"report: {job.out / (job.report_name + '.md')}"]


def architecture(config: TrainConfig) -> str:
    """The model a report measured, in one line (the ablation checks a report it takes a row from against it)."""
    mc = config.model
    table = "; the base blends in each window's own table of returns" if mc.window_table else ""
    table += ", and the network's correction fades as that table weighs more" if mc.network_fades else ""
    network = f"{mc.layers} x {mc.hidden} {mc.cell.upper()}, " if mc.reads else ""
    reads = f"the network reads the newest {mc.reads}" if mc.reads else "no network: the base alone"
    return (
        f"{network}{mc.head} head, windows of {mc.window} to {mc.max_window} prices ({reads}{table}), "
        f"features {','.join(config.features)}, {config.simulated} simulated training paths, "
        f"{config.epochs} epochs at most of {config.windows_per_epoch or 'every'} windows"
    )
