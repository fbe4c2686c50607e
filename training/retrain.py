"""The retraining job: train a challenger, score it, the champion and naive on one holdout, decide, record."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from training import metrics, registry
from training.data import FeatureSeries, make_feature_windows
from training.export import cpu_session
from training.train import TrainConfig, load_training_data
from training.version import BuiltVersion, build_version

log = logging.getLogger(__name__)

HISTORY = "history.jsonl"


@dataclass
class RetrainConfig:
    """The job's options; `train.test_days` is the holdout (the newest N trading days)."""

    train: TrainConfig
    registry: Path
    min_improvement: float = 0.0
    keep: int = 5
    force: bool = False
    gate: bool = True  # the quality gate against naive persistence (metrics.gate_failures)


@dataclass
class Decision:
    """What the job decided and every number it decided on (one line of history.jsonl)."""

    promoted: bool
    reason: str
    record: dict = field(default_factory=dict)


def onnx_outputs(
    model_dir: Path, card: dict, series: FeatureSeries, start: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Next-day forecasts (N,) and quantiles (N, Q) or None of a model.onnx for targets [start, n)."""
    if card.get("features", ["close"]) != series.names:
        raise ValueError(f"it reads features {card.get('features')}, this data has {series.names}")
    session = cpu_session(model_dir / "model.onnx")
    x, _, _ = make_feature_windows(series.values, int(card["window"]), start, len(series))
    inputs = x[..., 0] if len(series.names) == 1 else x
    names = [o.name for o in session.get_outputs()]
    out = session.run(names, {"window": inputs.astype(np.float32)})
    forecast = out[0].reshape(len(x), -1)[:, 0].astype(np.float64)
    if "quantiles" not in names:
        return forecast, None
    q = out[names.index("quantiles")].reshape(len(x), -1, len(card["quantiles"]))
    return forecast, q[:, 0, :].astype(np.float64)


def holdout_prices(series: FeatureSeries, start: int) -> tuple[np.ndarray, np.ndarray]:
    """(last known price, actual price) for each holdout day [start, n)."""
    return series.prices[start - 1 : -1], series.prices[start:]


def holdout_scores(model_dir: Path, series: FeatureSeries, start: int) -> dict[str, object]:
    """MAE, RMSE, MAPE, directional accuracy (and interval coverage) of one ONNX model on the holdout."""
    card = json.loads((model_dir / "model.json").read_text())
    last, actual = holdout_prices(series, start)
    forecast, quantiles = onnx_outputs(model_dir, card, series, start)
    scores: dict[str, object] = metrics.score(last, actual, forecast)
    if quantiles is not None:
        scores["intervals"] = metrics.interval_scores(actual, quantiles, tuple(card["quantiles"]))
    return scores


def champion_scores(config: RetrainConfig, series: FeatureSeries, start: int) -> tuple[str | None, dict | None]:
    """The current champion and its holdout scores; (name, None) when it cannot be scored."""
    champion = registry.current_version(config.registry)
    if champion is None or not (config.registry / champion / "model.onnx").is_file():
        return None, None
    try:
        return champion, holdout_scores(config.registry / champion, series, start)
    except Exception as exc:  # a champion that cannot run is no champion to defend
        log.warning("champion %s cannot be scored (%s); treating the registry as having none", champion, exc)
        return champion, None


def decide(
    champion: dict | None, challenger: dict, min_improvement: float, force: bool, naive: dict | None = None
) -> tuple[bool, str, float | None]:
    """Promote when forced; otherwise the challenger must pass the quality gate against naive, then beat
    the champion's MAE by >= min_improvement (any challenger that passes the gate beats no champion)."""
    improvement = None if champion is None else 1.0 - challenger["mae"] / champion["mae"]
    if force:
        shown = "n/a" if improvement is None else f"{improvement:+.2%}"
        return True, f"forced (MAE improvement {shown})", improvement
    problems = metrics.gate_failures(challenger, naive) if naive is not None else []
    if problems:
        return False, "quality gate: " + "; ".join(problems), improvement
    if champion is None:
        return True, "no champion to compare with (first run or unusable champion)", None
    if improvement >= min_improvement:
        return True, f"MAE improvement {improvement:+.2%} >= required {min_improvement:.2%}", improvement
    return False, f"MAE improvement {improvement:+.2%} < required {min_improvement:.2%}", improvement


def retrain(config: RetrainConfig) -> Decision:
    """The whole job under the registry lock; the registry is only ever changed by atomic renames."""
    with registry.registry_lock(config.registry):
        series = load_training_data(config.train)
        start = len(series) - config.train.test_days
        champion, champ_scores = champion_scores(config, series, start)
        built = build_version(config.train, config.registry, series)
        try:
            return conclude(config, series, start, built, champion, champ_scores)
        finally:
            shutil.rmtree(built.staged, ignore_errors=True)  # gone already when promoted


def conclude(
    config: RetrainConfig,
    series: FeatureSeries,
    start: int,
    built: BuiltVersion,
    champion: str | None,
    champ_scores: dict | None,
) -> Decision:
    """Scores the staged challenger, decides, publishes if promoted, prunes, and records the decision."""
    chall_scores = holdout_scores(built.staged, series, start)
    last, actual = holdout_prices(series, start)
    naive = metrics.score(last, actual, last)
    promoted, reason, improvement = decide(
        champ_scores, chall_scores, config.min_improvement, config.force, naive if config.gate else None
    )
    if promoted:
        registry.publish(config.registry, built.staged, built.version)
        registry.set_current(config.registry, built.version)
    pruned = registry.prune(config.registry, config.keep)
    record = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "decision": "promoted" if promoted else "kept",
        "reason": reason,
        "forced": config.force,
        "challenger": built.version,
        "champion": champion,
        "current": registry.current_version(config.registry),
        "holdout": {
            "start": str(series.dates[start]),
            "end": str(series.dates[-1]),
            "days": len(series) - start,
            "data_file": series.source,
            "data_sha256": series.target.sha256,
        },
        "scores": {"challenger": chall_scores, "champion": champ_scores, "naive": naive},
        "min_improvement": config.min_improvement,
        "mae_improvement": improvement,
        "parity_max_rel_diff": built.card["parity_max_rel_diff"],
        "pruned": pruned,
    }
    append_history(config.registry, record)
    return Decision(promoted, reason, record)


def append_history(root: Path, record: dict) -> None:
    """One JSON line per decision, appended and flushed to disk."""
    with open(root / HISTORY, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def summary(decision: Decision) -> str:
    """The one-screen summary the job prints."""
    r = decision.record
    lines = [
        f"retrain: {r['decision'].upper()} - {r['reason']}",
        f"holdout {r['holdout']['start']} .. {r['holdout']['end']} ({r['holdout']['days']} days, "
        f"{r['holdout']['data_file']})",
        f"{'':12}{'MAE':>10}{'RMSE':>10}{'MAPE %':>9}{'dir. acc.':>11}",
    ]
    for name in ("challenger", "champion", "naive"):
        s = r["scores"][name]
        if s is None:
            lines.append(f"{name:12}{'(none)':>10}")
            continue
        direction = "n/a" if s["directional_accuracy"] is None else f"{s['directional_accuracy']:.3f}"
        lines.append(f"{name:12}{s['mae']:10.3f}{s['rmse']:10.3f}{s['mape']:9.3f}{direction:>11}")
    lines.append(f"challenger {r['challenger']}   champion {r['champion']}   CURRENT -> {r['current']}")
    if r["pruned"]:
        lines.append(f"pruned: {', '.join(r['pruned'])}")
    return "\n".join(lines)
