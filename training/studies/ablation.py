"""The seed tutorial's five suggestions (and a smaller model), each measured on the leave-one-asset-out protocol:
reports/ablation.md and .json."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from training.core.config import TrainConfig
from training.core.data import BUNDLED_DATA, FeatureSeries, load_training_data
from training.core.errors import DataError
from training.core.synthetic import held_out_assets
from training.studies import loo, speed
from training.studies.jobs import AblationJob
from training.studies.readme import replace_block

log = logging.getLogger(__name__)

OHLC_DATA = [BUNDLED_DATA / f"{name}.csv.gz" for name in ("sp500", "nasdaq", "aapl", "ibm", "goog")]


@dataclass(frozen=True)
class Row:
    """One line of the ablation: what it changes from the default, and the config that does it."""

    name: str
    suggestion: str
    config: TrainConfig


def rows(default: TrainConfig) -> list[Row]:
    """The default, then one change each (the tutorial's words in `suggestion`)."""
    two_indices = [BUNDLED_DATA / "sp500.csv.gz", BUNDLED_DATA / "nasdaq.csv.gz"]
    return [
        Row("default", "-", default),
        Row(
            "less data: S&P 500 + NASDAQ only, no simulated paths",
            "more training data",
            replace(default, data=two_indices, simulated=0),
        ),
        Row("96 simulated paths instead of 24", "more training data", replace(default, simulated=96)),
        Row("window 120", "more timesteps", replace(default, model=replace(default.model, window=120))),
        Row(
            "+ high-low range input (OHLC series only: no DJIA, no simulated paths)",
            "more indicators",
            replace(default, data=OHLC_DATA, simulated=0, features=["close", "hl_range"]),
        ),
        Row("4 layers", "more LSTM layers", replace(default, model=replace(default.model, layers=4))),
        Row("64 units", "more units per layer", replace(default, model=replace(default.model, hidden=64))),
        Row("smaller: 1 x 16", "(serving cost)", replace(default, model=replace(default.model, layers=1, hidden=16))),
        Row(
            "untrained (learning rate 0): the base alone, filters at their initial values, conformal step kept",
            "(what training adds)",
            replace(default, lr=0.0),
        ),
    ]


def scorable(config: TrainConfig, series: list[FeatureSeries]) -> list[FeatureSeries]:
    """The universe's series this config can read (a range input needs High and Low)."""
    if config.features == ["close"]:
        return series
    found = []
    for s in series:
        path = BUNDLED_DATA / s.source
        try:
            found += load_training_data(replace(config, data=[path]))
        except DataError:
            log.info("%s: no %s, not scored for this row", s.source, ",".join(config.features))
    return found


def measure(row: Row, universe: list[FeatureSeries], cache: Path, jobs: int) -> dict[str, Any]:
    """The protocol for one row, summarised: wins and significant losses, coverage, time, speed."""
    started = time.monotonic()
    real = scorable(row.config, universe)
    simulated = held_out_assets() if row.config.features == ["close"] else []
    outcome = loo.run(row.config, real, cache, jobs, simulated)
    return {
        "name": row.name,
        "suggestion": row.suggestion,
        "minutes": (time.monotonic() - started) / 60,
        "train_seconds": outcome.train_seconds,
        "windows_per_second": outcome.windows_per_second,
        "series": [summary(r) for r in outcome.rows],
        **loo.verdicts(outcome.rows),
    }


def summary(row: dict[str, Any]) -> dict[str, Any]:
    """A series' line: pinball, its ratio to the best of the strongest simple methods, coverage, DM tests."""
    best = max(loo.STRONGEST, key=lambda o: row["ratio"][o])  # the lowest pinball: the highest ratio to it
    iv = row["forecasters"]["model"]["intervals"]
    return {
        "series": row["series"],
        "pinball_pct": iv["pinball_pct"],
        "best_simple": best,
        "ratio_to_best": row["ratio"][best],
        "coverage_80": iv["coverage_80"]["coverage"],
        "coverage_95": iv["coverage_95"]["coverage"],
        "dm": row["dm"],
    }


def table(measured: list[dict[str, Any]]) -> list[str]:
    """One line per row: what it changes, the protocol's verdicts, and what it costs."""
    lines = [
        "| row | suggestion | mean ratio to best simple | significant wins (vs FHS & GARCH-t) | significant losses "
        "| coverage 80% / 95% (range) | train s | windows/s (1 thread, batch 64) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in measured:
        ratios = [s["ratio_to_best"] for s in m["series"]]
        c80 = [s["coverage_80"] for s in m["series"]]
        c95 = [s["coverage_95"] for s in m["series"]]
        lines.append(
            f"| {m['name']} | {m['suggestion']} | {sum(ratios) / len(ratios):.4f} ({len(ratios)} series) | "
            f"{len(m['wins_over_fhs_and_garch_t'])}: {', '.join(m['wins_over_fhs_and_garch_t']) or '-'} | "
            f"{len(m['significant_losses'])}: {', '.join(m['significant_losses']) or '-'} | "
            f"{min(c80):.3f}-{max(c80):.3f} / {min(c95):.3f}-{max(c95):.3f} | {m['train_seconds']:.0f} | "
            f"{m['windows_per_second']:,.0f} |"
        )
    return lines


def per_series(measured: list[dict[str, Any]]) -> list[str]:
    """Each row's ratio to the best simple method on every series (bold: DM p < 0.05 after Holm, either way)."""
    names = list(dict.fromkeys(s["series"] for m in measured for s in m["series"]))
    lines = ["| row | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for m in measured:
        found = {s["series"]: s for s in m["series"]}
        cells = []
        for name in names:
            s = found.get(name)
            if s is None:
                cells.append("-")
                continue
            significant = s["dm"][s["best_simple"]]["p_holm"] < loo.ALPHA
            cells.append(f"**{s['ratio_to_best']:.4f}**" if significant else f"{s['ratio_to_best']:.4f}")
        lines.append(f"| {m['name']} | " + " | ".join(cells) + " |")
    return lines


def run_ablation(job: AblationJob) -> list[str]:
    """Every row through the protocol; writes reports/ablation.md and .json (and the docs page's generated block);
    returns the summary table."""
    universe = load_training_data(job.train)
    measured = []
    for row in rows(job.train):
        log.info("ablation row: %s", row.name)
        measured.append(measure(row, universe, job.out / ".cache", job.jobs))
        write(job.out, measured)  # after every row: a long run leaves what it finished
    measure_speeds(rows(job.train), measured)
    write(job.out, measured)
    if job.readme:
        replace_block(job.readme, "ablation", readme_block(measured))
    return table(measured)


SPEED_REPEATS = 5


def measure_speeds(found: list[Row], measured: list[dict[str, Any]]) -> None:
    """Each row's ONNX speed again, once no fold trains beside it: a fresh model of the row's shape (speed does
    not depend on the weights), the rows measured in turn, 5 rounds, the median of each. The protocol's own
    figure was taken while another fold trained on the other core."""
    from training.core.universe import load_universe
    from training.net.train import build_model, split_all

    by_name = {row.name: row.config for row in found}
    models = {}
    for m in measured:
        config = replace(by_name[m["name"]], simulated=0, threads=1)
        models[m["name"]] = (build_model(config, split_all(config, load_universe(config)[:1])), config)
    runs: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(SPEED_REPEATS):  # rounds, not one row after another: the machine's drift hits every row alike
        for name, (model, config) in models.items():
            runs[name].append(speed.onnx_speed(model, config))
    for m in measured:
        m["windows_per_second"] = sorted(runs[m["name"]])[SPEED_REPEATS // 2]


def readme_block(measured: list[dict[str, Any]]) -> list[str]:
    """The docs page's generated summary: the table of reports/ablation.md."""
    return ["Generated by `python -m training ablation` (reports/ablation.md).", "", *table(measured)]


def write(out: Path, measured: list[dict[str, Any]]) -> None:
    """reports/ablation.md (the tables) and ablation.json (every number)."""
    out.mkdir(parents=True, exist_ok=True)
    text = [
        "# The seed's five suggestions, measured on the leave-one-asset-out protocol",
        "",
        "Generated by `python -m training ablation`. Every row runs the whole protocol of reports/loo.md (a model "
        "trained without each real series scores it; the model trained on all scores the held-out simulated "
        "assets) with one change from the default. 'Ratio to best simple' is the model's pinball loss over the "
        "best of FHS, GARCH(1,1)-t and GJR-GARCH-skew-t on each series; wins and losses are Diebold-Mariano "
        "p < 0.05 after Holm across series. Train seconds: the model on all series, one thread, while another "
        "fold trained on the other core. Speed: the row's ONNX graph in onnxruntime on one CPU thread, batches of "
        "64 windows, median of 5 rounds over all rows of 1,000 batches each, measured after the protocol.",
        "",
        *table(measured),
        "",
        "## Ratio to the best simple method, series by series (bold: significant)",
        "",
        *per_series(measured),
        "",
    ]
    (out / "ablation.md").write_text("\n".join(text))
    (out / "ablation.json").write_text(json.dumps(measured, indent=1))
