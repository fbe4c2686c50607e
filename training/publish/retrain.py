"""The retraining job: skip when nothing is new; else train a challenger, score it beside the champion, naive
and the simple interval methods on the newest days of every series either was trained on, decide on a
significant pinball improvement behind the quality gate, record, publish."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime

from training.core.config import RetrainConfig
from training.core.data import FeatureSeries
from training.core.errors import DataError
from training.core.records import HistoryRecord, ScoreTable
from training.core.universe import load_universe
from training.publish import registry
from training.publish.build import BuiltVersion, build_version
from training.publish.champion import (
    champion_forecaster,
    champion_series,
    nothing_new,
    onnx_forecaster,
    other_series,
    read_card_or_empty,
    same_series,
)
from training.publish.evidence import LiveEvidence
from training.scoring import holdout
from training.scoring.gate import decide, pinball_improvement

log = logging.getLogger(__name__)


@dataclass
class Decision:
    """What the job decided and every number it decided on (one line of history.jsonl)."""

    promoted: bool
    reason: str
    record: HistoryRecord = field(default_factory=dict)
    challenger_summary: list[str] = field(default_factory=list)  # its test-split table, as `train` shows it


def skip(config: RetrainConfig, champion: str, evidence: LiveEvidence) -> Decision:
    """Nothing new to learn from: no training, no version, no reload; one history record."""
    reason = f"no new data since {champion}" + (", and its live record holds" if evidence.record else "")
    record = {
        "time": now(),
        "decision": "skipped",
        "reason": reason,
        "forced": False,
        "champion": champion,
        "current": champion,
        "live": evidence.summary(),
    }
    registry.append_history(config.registry, record)
    return Decision(False, reason, record)


def check_registry(config: RetrainConfig) -> None:
    """A registry with no current model is a first run only when asked for (--new-registry): a mistyped path
    would otherwise train from scratch into a new directory, every round."""
    if config.new_registry or registry.current_version(config.registry) is not None:
        return
    found = "does not exist" if not config.registry.exists() else "has no current model (no CURRENT file)"
    raise DataError(
        f"--registry {config.registry} {found}; retrain challenges the model a registry serves: give the registry the "
        f"service reads, start one with `python -m training train --out {config.registry}`, or add --new-registry"
    )


def retrain(config: RetrainConfig) -> Decision:
    """The whole job under the registry lock; the registry is only ever changed by atomic renames."""
    check_registry(config)
    with registry.registry_lock(config.registry):
        series = load_universe(config.train)
        champion = registry.current_version(config.registry)
        card = read_card_or_empty(config.registry / champion) if champion else {}
        evidence = LiveEvidence.read(config, champion)
        if champion and not config.force and not evidence.reasons and nothing_new(card, series):
            return skip(config, champion, evidence)
        held = champion_series(card, config, series) if champion else []
        built = build_version(config.train, config.registry, series, on_gate_failure="defer")
        try:
            return conclude(config, series, built, champion, held, evidence)
        finally:
            shutil.rmtree(built.staged, ignore_errors=True)  # gone already when promoted


def conclude(
    config: RetrainConfig,
    series: list[FeatureSeries],
    built: BuiltVersion,
    champion: str | None,
    held: list[FeatureSeries],
    evidence: LiveEvidence,
) -> Decision:
    """Scores the staged challenger and the champion on every series either was trained on (and on the champion's
    live record, reported beside), decides, publishes if promoted, prunes, records."""
    differs = other_series(held, series)
    series = [*series, *(s for s in held if not any(same_series(s, n) for n in series))]
    days = holdout.holdout_days(series, config.train.test_days, built.card["window"])
    models = {"challenger": onnx_forecaster(built.staged, built.card, series)}
    champ_forecaster, champion_problem = champion_forecaster(config, champion, series)
    if champ_forecaster is not None:
        models["champion"] = champ_forecaster
    table = holdout.score_all(days, models, tuple(built.card["quantiles"]))
    promoted, reason = decide(table, config, champion_problem, days, differs)
    record = history_record(config, days, built, champion, table, promoted, reason)
    record["other_series"] = differs
    record["change_of_purpose"] = bool(differs) and promoted
    record["live"] = evidence.summary(evidence.compare(built, config.min_improvement))
    if promoted:
        kept = ("time", "reason", "forced", "champion", "holdout", "other_series", "change_of_purpose", "live")
        built.card["promotion"] = {k: record[k] for k in kept}
        built.card["promotion"]["scores"] = record["scores"]
        (built.staged / "model.json").write_text(json.dumps(built.card, indent=2) + "\n")
        registry.publish(config.registry, built.staged, built.version)
        registry.set_current(config.registry, built.version)
    record["pruned"] = registry.prune(config.registry, config.keep)
    record["current"] = registry.current_version(config.registry)
    registry.append_history(config.registry, record)
    return Decision(promoted, reason, record, built.summary)


def history_record(
    config: RetrainConfig,
    days: holdout.Holdout,
    built: BuiltVersion,
    champion: str | None,
    table: ScoreTable,
    promoted: bool,
    reason: str,
) -> HistoryRecord:
    """Every number the decision rests on: the table, the DM test of the pinball difference, the holdout."""
    dm = holdout.dm_pinball(table, "challenger", "champion")
    return {
        "time": now(),
        "decision": "promoted" if promoted else "kept",
        "reason": reason,
        "forced": config.force,
        "challenger": built.version,
        "champion": champion,
        "champion_scored": "champion" in table,
        "holdout": {
            "days": days.days,
            "series": [
                {"file": s.source, "sha256": s.target.sha256, "start": str(s.dates[start]), "end": str(s.dates[-1])}
                for s, start in zip(days.series, days.starts, strict=True)
            ],
        },
        "scores": holdout.without_daily(table),
        "min_improvement": config.min_improvement,
        "pinball_improvement": pinball_improvement(table) if "champion" in table else None,
        "dm_pinball_vs_champion": dm,
        "parity_max_rel_diff": built.card["parity_max_rel_diff"],
    }


def now() -> str:
    """UTC time, to the second, for records."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def summary(decision: Decision) -> str:
    """The one-screen summary the job prints: the decision, the table and the versions."""
    r = decision.record
    lines = [*decision.challenger_summary, f"retrain: {r['decision'].upper()} - {r['reason']}"]
    if r["decision"] == "skipped":
        return "\n".join([lines[-1], *live_lines(r.get("live") or {})])
    if r.get("change_of_purpose"):
        lines.append(f"change of purpose (--allow-other-series): {'; '.join(r['other_series'])}")
    series = ", ".join(f"{s['file']} {s['start']} .. {s['end']}" for s in r["holdout"]["series"])
    lines += [f"holdout: {r['holdout']['days']} days ({series})", holdout.format_table(r["scores"])]
    dm = r["dm_pinball_vs_champion"]
    if dm is not None:
        lines.append(
            f"Diebold-Mariano, challenger vs champion pinball: statistic {dm['statistic']:+.2f}, "
            f"p = {dm['p_value']:.3f}"
        )
    lines += live_lines(r.get("live") or {})
    lines.append(f"challenger {r['challenger']}   champion {r['champion']}   CURRENT -> {r['current']}")
    if r["pruned"]:
        lines.append(f"pruned: {', '.join(r['pruned'])}")
    return "\n".join(lines)


def live_lines(found: dict) -> list[str]:
    """The live record in the summary: what it held, the reasons it gave, the challenger's verdict on it."""
    if not found.get("scored_days"):  # said only where there is a store to say it of
        return [f"live record: none ({found['note']})"] if found.get("store") else []
    lines = [f"live record: {found['scored_days']} scored days of {found['series']} series in {found['store']}"]
    lines += [f"reason to retrain: {reason}" for reason in found["reasons_to_retrain"]]
    comparison = found.get("challenger_vs_champion")
    if comparison:
        lines.append(f"on the live record (reported, not deciding): {comparison['verdict']}")
    return lines
