"""Builds one complete model version: train, score on the test split, export, verify, write the card."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from training.core.config import TrainConfig
from training.core.data import FeatureSeries, make_feature_windows
from training.core.errors import GateRefused
from training.core.records import ModelCard, ScoreTable
from training.core.universe import load_universe
from training.net import export
from training.net.lengths import checked_lengths
from training.net.train import TrainResult, predict, split_all, train
from training.publish import plots, registry
from training.publish.card import model_card, onnx_metadata, sha256_file, test_metrics
from training.scoring import gate, holdout

log = logging.getLogger(__name__)


@dataclass
class BuiltVersion:
    """A staged, verified version directory waiting to be published."""

    version: str
    staged: Path
    card: ModelCard
    summary: list[str] = field(default_factory=list)  # the test-split table and the gate's verdict, to show


def torch_forecaster(result: TrainResult) -> holdout.Forecaster:
    """Next-day point forecasts and quantiles of the trained torch model, for holdout scoring."""

    def forecast(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        point, quantiles = predict(result.model, windows)
        return point[:, 0], quantiles[:, 0, :]

    return forecast


def score_test_split(
    result: TrainResult, config: TrainConfig, length: int | None = None
) -> tuple[ScoreTable, holdout.Holdout]:
    """The model, naive, GARCH(1,1)-t and EWMA on every series' test split, pooled (next day), with windows of
    `length` prices (the shortest the model reads by default)."""
    series = [s for s, _ in result.datasets]
    days = holdout.holdout_days(series, config.test_days, length or config.model.window)
    table = holdout.score_all(days, {"model": torch_forecaster(result)}, config.model.quantiles)
    return table, days


def longest_scores(result: TrainResult, config: TrainConfig) -> tuple[ScoreTable, holdout.Holdout] | None:
    """The test split scored with the longest window the model reads; None for a model of one length."""
    if config.model.max_window <= config.model.window:
        return None
    return score_test_split(result, config, config.model.max_window)


def build_version(
    config: TrainConfig,
    registry_dir: Path,
    series: list[FeatureSeries] | None = None,
    on_gate_failure: str = "refuse",
) -> BuiltVersion:
    """Trains and verifies a model in a staging directory of the registry; publishes nothing.

    A model failing the quality gate raises GateRefused after the table is printed ("refuse"), is built
    anyway and marked forced ("force", train --force), or is built for a caller that decides ("defer", retrain).
    """
    series = series if series is not None else load_universe(config)
    result = train(config, split_all(config, series))
    table, days = score_test_split(result, config)
    problems, summary = gate.gate(table, "model", days), [holdout.format_table(table)]
    longest = longest_scores(result, config)
    if longest is not None:  # a range of lengths: the full gate with the longest window, the short one with 60
        problems = [f"at {config.model.max_window} prices: {p}" for p in gate.gate(longest[0], "model", longest[1])]
        short = holdout.with_family_reader(table, days, config.model.quantiles)
        problems += [f"at {config.model.window} prices: {p}" for p in gate.short_window_gate(short, "model", days)]
        summary += [f"with {config.model.max_window} prices:", holdout.format_table(longest[0])]
    notes = {"refuse": "", "force": " (published anyway: --force)", "defer": " (the retrain decision applies it)"}
    verdict = "passed" if not problems else f"FAILED{notes[on_gate_failure]}: "
    summary.append(holdout.ratios_line(table, "model"))
    if "pinball_by_day" in table["model"]:
        summary.append(holdout.format_per_series(holdout.per_series(table, "model", days)))
    summary.append(f"quality gate on the test split ({days.days} days): {verdict}{'; '.join(problems)}")
    if problems and on_gate_failure == "refuse":
        raise GateRefused(problems, summary)
    created = datetime.now(UTC)
    card = model_card(config, result, test_metrics(table, days, result), created)
    if longest is not None:
        card["metrics"]["test_longest"] = {"window": config.model.max_window, **test_metrics(*longest, result)}
    forced = bool(problems) and on_gate_failure == "force"
    card["quality_gate"] = {"passed": not problems, "forced": forced, "problems": problems}
    card["quality_gate"]["rules"] = gate.rules(config.model.window, config.model.max_window)
    # The version name hashes the weights, so it is known before the ONNX file (which holds it) exists.
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in result.model.parameters()))
    card["version"] = registry.unused_version(registry_dir, registry.new_version(created, digest.hexdigest()))
    staged = registry.staging_dir(registry_dir)
    try:
        write_version(staged, card, result, days, table)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return BuiltVersion(version=card["version"], staged=staged, card=card, summary=summary)


def write_version(staged: Path, card: ModelCard, result: TrainResult, days: holdout.Holdout, table: ScoreTable) -> None:
    """model.onnx (verified against torch), model.json and the test plot, into the staging directory."""
    onnx_path = staged / "model.onnx"
    metadata, features = onnx_metadata(card), len(card["features"])
    export.export_onnx(result.model, card["window"], onnx_path, metadata, features, card["max_window"])
    # verified, and pinned for every server, at the shortest length, a year's and the longest
    sets = [days.windows, *(test_windows(result, n) for n in checked_lengths(card["window"], card["max_window"])[1:])]
    sets = [w[..., 0] if result.model.univariate else w for w in sets if len(w)]
    card["parity_max_rel_diff"] = max(export.check_parity(result.model, onnx_path, w) for w in sets)
    card["golden"] = [g for w in sets for g in export.golden_references(result.model, w)]
    card["onnx_sha256"] = sha256_file(onnx_path)
    card["history"] = result.history
    # The PyTorch weights, for fine-tuning and for the benchmark's PyTorch peer; the service never reads them.
    torch.save(result.model.state_dict(), staged / "weights.pt")
    (staged / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    write_calibration_plot(staged, card, table)
    first = days.owner == 0
    point, quantiles = torch_forecaster(result)(days.windows[first])
    levels = card["quantiles"]
    band = None
    if quantiles is not None and {0.1, 0.9} <= set(levels):
        band = (quantiles[:, levels.index(0.1)], quantiles[:, levels.index(0.9)])
    series = days.series[0]
    plots.plot_test_period(
        series.dates[days.starts[0] :],
        days.actual[first],
        point,
        days.last[first],
        staged / "test_forecast.png",
        f"{series.source} ({series.column}), test split: {card['version']}",
        band,
    )


def test_windows(result: TrainResult, length: int) -> np.ndarray:
    """Test-split windows (N, length, F) of the first series with that much history; empty when none has."""
    for series, split in result.datasets:
        x, _, _ = make_feature_windows(series.values, length, split.test_start, split.n)
        if len(x):
            return x
    return np.empty((0, length, len(result.datasets[0][0].names)))


def write_calibration_plot(staged: Path, card: ModelCard, table: ScoreTable) -> None:
    """calibration.png: the model's, GARCH-t's and EWMA's quantile calibration on the test split, as scored."""
    shares = {name: row["calibration"] for name, row in table.items() if "calibration" in row}
    plots.plot_calibration(
        card["quantiles"], shares, staged / "calibration.png", f"test split calibration: {card['version']}"
    )


def train_and_publish(config: TrainConfig, registry_dir: Path, force: bool = False) -> BuiltVersion:
    """`training train`: build a version, publish it and point CURRENT at it, under the registry lock.

    Bad data is refused before the registry is touched; a registry this call created is removed again when
    nothing was published into it (it would hold only the lock file).
    """
    series = load_universe(config)
    created = not registry_dir.exists()
    try:
        return publish_new(config, registry_dir, series, force)
    except BaseException:
        if created:
            registry.remove_if_unused(registry_dir)
        raise


def publish_new(config: TrainConfig, registry_dir: Path, series: list[FeatureSeries], force: bool) -> BuiltVersion:
    """Builds, publishes and points CURRENT at a version, under the registry lock."""
    with registry.registry_lock(registry_dir):
        built = build_version(config, registry_dir, series, on_gate_failure="force" if force else "refuse")
        registry.publish(registry_dir, built.staged, built.version)
        registry.set_current(registry_dir, built.version)
        gate = built.card["quality_gate"]
        registry.append_history(
            registry_dir,
            {
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "decision": "published",
                "reason": "training train" + (" (quality gate overridden with --force)" if gate["forced"] else ""),
                "forced": gate["forced"],
                "version": built.version,
                "quality_gate": gate,
            },
        )
    log.info("published %s; CURRENT -> %s", registry_dir / built.version, built.version)
    return built
