"""The retraining job: skip when nothing is new; else train a challenger, score it beside the champion, naive
and the simple interval methods on the newest days of every series either was trained on, decide on a
significant pinball improvement behind the quality gate, record, publish."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from training import holdout, registry
from training.config import RetrainConfig
from training.data import BUNDLED_DATA, DataError, FeatureSeries, load_training_data
from training.export import cpu_session
from training.synthetic import SIMULATED
from training.tables import DataRecord, HistoryRecord, ModelCard, ScoreTable
from training.universe import load_universe
from training.version import BuiltVersion, build_version

log = logging.getLogger(__name__)


@dataclass
class Decision:
    """What the job decided and every number it decided on (one line of history.jsonl)."""

    promoted: bool
    reason: str
    record: HistoryRecord = field(default_factory=dict)
    challenger_summary: list[str] = field(default_factory=list)  # its test-split table, as `train` shows it


def onnx_forecaster(model_dir: Path, card: ModelCard, series: list[FeatureSeries]) -> holdout.Forecaster:
    """Next-day forecasts and quantiles of a model.onnx, run by onnxruntime as the service would."""
    if card.get("features", ["close"]) != series[0].names:
        raise ValueError(f"it reads features {card.get('features')}, this data has {series[0].names}")
    session = cpu_session(model_dir / "model.onnx")
    names = [o.name for o in session.get_outputs()]
    window, levels = int(card["window"]), card.get("quantiles", [])

    def forecast(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        x = windows[:, -window:]
        out = session.run(names, {"window": (x[..., 0] if len(series[0].names) == 1 else x).astype(np.float32)})
        point = out[0].reshape(len(x), -1)[:, 0].astype(np.float64)
        if "quantiles" not in names:
            return point, None
        return point, out[names.index("quantiles")].reshape(len(x), -1, len(levels))[:, 0, :].astype(np.float64)

    return forecast


def read_card(model_dir: Path) -> ModelCard:
    """A version's model.json."""
    return json.loads((model_dir / "model.json").read_text())


def data_files(card: ModelCard) -> list[tuple[str, str]]:
    """(file name, sha256) of every series a card was trained on (older cards: one file)."""
    training = card.get("training", {})
    if "data" in training:
        return [(d["file"], d["sha256"]) for d in training["data"]]
    return [(str(training.get("data_file", "")), str(training.get("data_sha256", "")))]


def nothing_new(champion_card: ModelCard, series: list[FeatureSeries]) -> bool:
    """The job's data are exactly the files (and bytes) the champion was trained on."""
    return data_files(champion_card) == [(s.source, s.target.sha256) for s in series]


def champion_forecaster(
    config: RetrainConfig, champion: str | None, series: list[FeatureSeries]
) -> tuple[holdout.Forecaster | None, str]:
    """The champion's forecaster, or None with the reason it cannot be scored."""
    if champion is None:
        return None, "no champion (first run)"
    try:
        card = read_card(config.registry / champion)
        forecaster = onnx_forecaster(config.registry / champion, card, series)
        probe = np.linspace(100.0, 101.0, int(card["window"]))[None, :, None]
        forecaster(np.repeat(probe, len(series[0].names), axis=2))  # it must run before it is defended
    except Exception as exc:  # a champion that cannot run is no champion to defend
        reason = f"champion {champion} cannot be scored ({str(exc).splitlines()[0][:200]})"
        log.warning("%s; the challenger replaces it if it passes the gate", reason)
        return None, reason
    return forecaster, ""


SIGNIFICANCE = 0.05  # a pinball gain whose Diebold-Mariano p-value is not below this keeps the champion


def decide(
    table: ScoreTable, config: RetrainConfig, champion_problem: str, days: holdout.Holdout, other_series: list[str]
) -> tuple[bool, str]:
    """Forced: promote. Else the challenger must pass the gate; a challenger trained on other series than the
    champion needs --allow-other-series; then it must beat the champion's pinball loss by at least
    min_improvement (relative), significantly. With no scorable champion, passing the gate is enough."""
    if config.force:
        return True, "forced (--force)"
    problems = holdout.gate(table, "challenger", days) if config.gate else []
    if problems:
        return False, "quality gate: " + "; ".join(problems)
    if "champion" not in table:
        return True, champion_problem
    if other_series and not config.allow_other_series:
        return False, (
            "a change of purpose: the challenger and the champion were trained on different series "
            f"({'; '.join(other_series)}); --allow-other-series promotes it"
        )
    improvement, dm = pinball_improvement(table), holdout.dm_pinball(table, "challenger", "champion")
    found = f"pinball improvement {improvement:+.3%} on {days.days} days of {len(days.series)} series"
    if improvement < config.min_improvement:
        return False, f"{found} < required {config.min_improvement:.3%}"
    if dm is None or dm["p_value"] >= SIGNIFICANCE:
        p = "n/a" if dm is None else f"{dm['p_value']:.3f}"
        return False, f"{found}, not significant (Diebold-Mariano p = {p} >= {SIGNIFICANCE}); --force promotes it"
    return (
        True,
        f"{found} >= required {config.min_improvement:.3%}, significant (Diebold-Mariano p = {dm['p_value']:.3f})",
    )


def pinball_improvement(table: ScoreTable) -> float:
    """1 - challenger's pinball / champion's (positive: the challenger is better)."""
    return 1.0 - table["challenger"]["intervals"]["pinball_pct"] / table["champion"]["intervals"]["pinball_pct"]


def skip(config: RetrainConfig, champion: str) -> Decision:
    """Nothing new to learn from: no training, no version, no reload; one history record."""
    reason = f"no new data since {champion}"
    record = {
        "time": now(),
        "decision": "skipped",
        "reason": reason,
        "forced": False,
        "champion": champion,
        "current": champion,
    }
    registry.append_history(config.registry, record)
    return Decision(False, reason, record)


def retrain(config: RetrainConfig) -> Decision:
    """The whole job under the registry lock; the registry is only ever changed by atomic renames."""
    with registry.registry_lock(config.registry):
        series = load_universe(config.train)
        champion = registry.current_version(config.registry)
        card = read_card_or_empty(config.registry / champion) if champion else {}
        if champion and not config.force and nothing_new(card, series):
            return skip(config, champion)
        held = champion_series(card, config, series) if champion else []
        built = build_version(config.train, config.registry, series, on_gate_failure="defer")
        try:
            return conclude(config, series, built, champion, held)
        finally:
            shutil.rmtree(built.staged, ignore_errors=True)  # gone already when promoted


def champion_series(card: ModelCard, config: RetrainConfig, series: list[FeatureSeries]) -> list[FeatureSeries]:
    """The series the champion was trained on, each found again by name (beside the --data files, or bundled)
    with its sha256 checked; a DataError names one that cannot be found, so that both are scored on it."""
    records = card.get("training", {}).get("data", [])
    simulated = [r for r in records if r["file"].startswith(SIMULATED)]
    found = [locate(record, config) for record in records if not record["file"].startswith(SIMULATED)]
    if simulated:
        count = int(card["training"].get("options", {}).get("simulated", len(simulated)))
        paths = {s.source: s for s in load_universe(replace(config.train, data=[], simulated=count))}
        found += [paths[r["file"]] for r in simulated if r["file"] in paths]
    return found


def locate(record: DataRecord, config: RetrainConfig) -> FeatureSeries:
    """A training file of the champion's card, read the way the challenger's data are read."""
    places = list(dict.fromkeys([*(Path(p).parent for p in config.train.data), BUNDLED_DATA]))
    for place in places:
        path = place / record["file"]
        if path.is_file():
            loaded = load_training_data(replace(config.train, data=[path], column=record.get("column")))[0]
            if loaded.target.sha256 == record["sha256"]:
                return loaded
    raise DataError(
        f"the champion was trained on {record['file']} (sha256 {record['sha256'][:12]}), which is not in "
        f"{', '.join(map(str, places))} with those bytes; put it beside the --data files (or give it with --data) "
        "so that the challenger is judged on the series the champion is for"
    )


def same_series(old: FeatureSeries, new: FeatureSeries) -> bool:
    """The same file name, or the new series holds the old one's prices on every one of its dates (extended)."""
    if old.source == new.source:
        return True
    common, old_at, new_at = np.intersect1d(old.dates, new.dates, return_indices=True)
    return len(common) == len(old.dates) and bool(np.allclose(old.prices[old_at], new.prices[new_at], rtol=1e-9))


def other_series(champion: list[FeatureSeries], challenger: list[FeatureSeries]) -> list[str]:
    """What differs between the two sets of series: a change of purpose when not empty."""
    dropped = [s.source for s in champion if not any(same_series(s, n) for n in challenger)]
    added = [n.source for n in challenger if not any(same_series(s, n) for s in champion)]
    return [*(f"champion only: {name}" for name in dropped), *(f"challenger only: {name}" for name in added)]


def read_card_or_empty(model_dir: Path) -> ModelCard:
    """A card, or {} when it cannot be read (then the data cannot match either)."""
    try:
        return read_card(model_dir)
    except (OSError, ValueError):
        return {}


def conclude(
    config: RetrainConfig,
    series: list[FeatureSeries],
    built: BuiltVersion,
    champion: str | None,
    held: list[FeatureSeries],
) -> Decision:
    """Scores the staged challenger and the champion on every series either was trained on, decides,
    publishes if promoted, prunes, records."""
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
    if promoted:
        kept = ("time", "reason", "forced", "champion", "holdout", "other_series", "change_of_purpose")
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
        return lines[-1]
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
    lines.append(f"challenger {r['challenger']}   champion {r['champion']}   CURRENT -> {r['current']}")
    if r["pruned"]:
        lines.append(f"pruned: {', '.join(r['pruned'])}")
    return "\n".join(lines)
