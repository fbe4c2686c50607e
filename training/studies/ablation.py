"""The default and one change at a time (the seed tutorial's suggestions, how much the network reads, which series
are pooled), each measured on the leave-one-asset-out protocol: reports/ablation.md and .json."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from training.core.config import TrainConfig
from training.core.data import BUNDLED_DATA, DEFAULT_TRAINING_DATA, FeatureSeries, load_training_data
from training.core.errors import DataError
from training.core.synthetic import held_out_assets
from training.studies import ablation_report, loo, loo_report, speed
from training.studies.jobs import AblationJob
from training.studies.readme import replace_block

log = logging.getLogger(__name__)

OHLC_DATA = [BUNDLED_DATA / f"{name}.csv.gz" for name in ("sp500", "nasdaq", "aapl", "ibm", "goog")]
EQUITIES_1999_2018 = DEFAULT_TRAINING_DATA[:6]  # the pool before the exchange rates and the 1987 crash joined it


@dataclass(frozen=True)
class Row:
    """One line of the ablation: what it changes from the default, and the config that does it."""

    name: str
    suggestion: str
    config: TrainConfig


def rows(default: TrainConfig) -> list[Row]:
    """The default, then one change each (`suggestion`: what the row asks, in the seed tutorial's words where it
    made the suggestion)."""
    two_indices = [BUNDLED_DATA / "sp500.csv.gz", BUNDLED_DATA / "nasdaq.csv.gz"]
    ohlc = replace(default, data=OHLC_DATA, simulated=0)  # the series with High and Low, no simulated paths
    return [
        Row("default", "-", default),
        *(
            Row(name, "how much the network reads", replace(default, model=replace(default.model, reads=reads)))
            for name, reads in (
                ("network reads 250", 250),
                (f"network reads all ({default.model.max_window})", default.model.max_window),
                ("no network: the base alone", 0),
            )
        ),
        Row(
            "pooled table only (no window's own table)",
            "how much the base reads",
            replace(default, model=replace(default.model, window_table=False)),
        ),
        Row(
            "pool without the exchange rates and the S&P 500 1980-91",
            "more training data, other asset kinds",
            replace(default, data=[p for p in default.data if p in EQUITIES_1999_2018]),
        ),
        Row(
            "network's correction fades as the window's own table weighs more",
            "how much the network's correction counts",
            replace(default, model=replace(default.model, network_fades=True)),
        ),
        Row(
            "less data: S&P 500 + NASDAQ only, no simulated paths",
            "more training data",
            replace(default, data=two_indices, simulated=0),
        ),
        Row("96 simulated paths instead of 24", "more training data", replace(default, simulated=96)),
        Row(
            "+ high-low range input (OHLC series only: no DJIA, no simulated paths)",
            "more indicators",
            replace(ohlc, features=["close", "hl_range"]),
        ),
        Row("the range row's pool, close only (its control)", "more indicators", ohlc),
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


def protocol(config: TrainConfig, universe: list[FeatureSeries]) -> str:
    """What a row is measured on: the default's window range, the series scored and the lengths they are read at."""
    lengths = ", ".join(str(n) for n in loo.protocol_lengths(config))
    table = ", its base blending in each window's own table" if config.model.window_table else ""
    return (
        f"the model reading {config.model.window} to {config.model.max_window} prices{table}; {len(universe)} real "
        f"series and {len(held_out_assets())} held-out simulated assets, scored at {lengths} prices on the same days"
    )


def measure(row: Row, universe: list[FeatureSeries], cache: Path, jobs: int) -> loo.Outcome:
    """The protocol for one row."""
    real = scorable(row.config, universe)
    simulated = held_out_assets() if row.config.features == ["close"] else []
    return loo.run(row.config, real, cache, jobs, simulated)


def summarise(row: Row, outcome: loo.Outcome, minutes: float, measured_on: str) -> dict[str, Any]:
    """A row's numbers: at each posted length its series and verdicts; its training time and speeds."""
    return {
        "name": row.name,
        "suggestion": row.suggestion,
        "protocol": measured_on,
        "minutes": minutes,
        "train_seconds": outcome.train_seconds,
        "windows_per_second": {str(n): v for n, v in outcome.speeds.items()},
        "lengths": {
            str(n): {"series": [summary(r) for r in found], **loo.verdicts(found)}
            for n, found in outcome.by_length.items()
        },
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
        "dm": {o: row["dm"][o] for o in loo.STRONGEST},
    }


def saved_row(loo_json: Path, config: TrainConfig, universe: list[FeatureSeries]) -> tuple[loo.Outcome, float]:
    """A row's numbers from a leave-one-asset-out report of its model (the same protocol: its rows at every length,
    its cost and minutes), so that its folds need not train again. A report of other lengths, other series or
    another architecture is refused (the report does not name its training pool: that is the caller's word)."""
    data = json.loads(loo_json.read_text())
    by_length = {int(n): found["series"] for n, found in data["lengths"].items()}
    scored = {r["series"] for rows in by_length.values() for r in rows}
    expected = {s.source for s in [*universe, *held_out_assets()]}
    if sorted(by_length) != loo.protocol_lengths(config) or scored != expected:
        raise ValueError(
            f"{loo_json} scores lengths {sorted(by_length)} on {len(scored)} series, not this row's protocol "
            f"({loo.protocol_lengths(config)} on {len(expected)}): run evaluate --leave-one-out again"
        )
    if data["settings"]["architecture"] != loo_report.architecture(config):
        raise ValueError(
            f"{loo_json} measured {data['settings']['architecture']!r}, not this row's model "
            f"({loo_report.architecture(config)!r})"
        )
    settings = data["settings"]
    speeds = {int(n): v for n, v in settings["windows_per_second"].items()}
    return loo.Outcome(by_length, settings["train_seconds"], speeds), settings["minutes"]


def unmeasured(measured: list[dict[str, Any]], default: TrainConfig) -> list[str]:
    """The current default's rows that the report has no numbers for."""
    names = {m["name"] for m in ablation_report.current(measured)} if measured else set()
    return [row.name for row in rows(default) if row.name not in names]


def merged(old: list[dict[str, Any]], new: list[dict[str, Any]], default: TrainConfig) -> list[dict[str, Any]]:
    """The report's rows: those measured now replace the same rows of the same protocol; the current protocol's
    rows first, in the order of `rows`, then the rows of earlier defaults as they were."""
    found = {(m["name"], m["protocol"]): m for m in [*old, *new]}
    now = (new or old)[0]["protocol"]
    order = [row.name for row in rows(default)]
    first = sorted((m for (_, p), m in found.items() if p == now), key=lambda m: order.index(m["name"]))
    return first + [m for (_, p), m in found.items() if p != now]


def run_ablation(job: AblationJob) -> list[str]:
    """The chosen rows through the protocol, merged with the report's other rows; writes reports/ablation.md and
    .json (and the docs page's generated block); returns the current rows' tables."""
    universe = load_training_data(job.train)
    measured_on = protocol(job.train, universe)
    report = job.out / "ablation.json"
    old = json.loads(report.read_text()) if report.is_file() else []
    new: list[dict[str, Any]] = []
    wanted = {*job.rows, *job.from_reports}
    unknown = wanted - {row.name for row in rows(job.train)}
    if unknown:
        raise ValueError(f"no ablation row is named {', '.join(sorted(unknown))}")
    for row in rows(job.train):
        if wanted and row.name not in wanted:
            continue
        log.info("ablation row: %s", row.name)
        started = time.monotonic()
        if row.name in job.from_reports:
            outcome, minutes = saved_row(job.from_reports[row.name], row.config, universe)
        else:
            outcome = measure(row, universe, job.out / ".cache", job.jobs)
            minutes = (time.monotonic() - started) / 60
        new.append(summarise(row, outcome, minutes, measured_on))
        ablation_report.write(job.out, merged(old, new, job.train), [])  # a long run leaves what it finished
    return finish(job, merged(old, new, job.train))


def finish(job: AblationJob, measured: list[dict[str, Any]]) -> list[str]:
    """Every current row's speed measured again in one run, then the report, the docs block and the tables."""
    measure_speeds(rows(job.train), ablation_report.current(measured))
    missing = unmeasured(measured, job.train)
    ablation_report.write(job.out, measured, missing)
    if job.readme:
        replace_block(job.readme, "ablation", ablation_report.readme_block(measured, missing))
    return ablation_report.current_tables(measured, missing)


SPEED_REPEATS = 5


def measure_speeds(found: list[Row], measured: list[dict[str, Any]]) -> None:
    """Each row's ONNX speed again at the shortest and the longest length, once no fold trains beside it: a fresh
    model of the row's shape (speed does not depend on the weights), the rows measured in turn, 5 rounds, the
    median of each. The protocol's own figures were taken while another fold trained on the other core."""
    from training.core.universe import load_universe
    from training.net.train import build_model, split_all

    by_name = {row.name: row.config for row in found}
    models = {}
    for m in measured:
        config = replace(by_name[m["name"]], simulated=0, threads=1)
        models[m["name"]] = (build_model(config, split_all(config, load_universe(config)[:1])), config)
    lengths = sorted(int(n) for n in measured[0]["windows_per_second"])
    runs: dict[tuple[str, int], list[float]] = {(name, n): [] for name in models for n in lengths}
    for _ in range(SPEED_REPEATS):  # rounds, not one row after another: the machine's drift hits every row alike
        for (name, n), found_runs in runs.items():
            model, config = models[name]
            found_runs.append(speed.onnx_speed(model, config, n))
    for m in measured:
        m["windows_per_second"] = {str(n): sorted(runs[(m["name"], n)])[SPEED_REPEATS // 2] for n in lengths}
