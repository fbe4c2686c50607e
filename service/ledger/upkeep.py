"""Upkeep of the store, once a minute: retention, the busiest series (the only ones the metrics name), and the values
of the live calibration gauges; worked out by the writer process, shown by the server on /metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.ledger import calibration, queries
from service.ledger.calibration import RECENT
from service.ledger.database import Database

RETRAIN_ALPHA = 0.01  # the retraining job's live rule (training.scoring.gate.LIVE_ALPHA), shown on /metrics


@dataclass
class Upkeep:
    """What one round found: the series to name, forecasts awaiting an outcome, and per series and model version
    the days scored, Kupiec's p over the last 250 (as served), and whether the model's own intervals fail it."""

    named: list[str]
    awaiting: int
    scored: dict[tuple[str, str], int] = field(default_factory=dict)  # (model, series)
    kupiec: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (model, series, interval)
    retrain: dict[tuple[str, str, str], float] = field(default_factory=dict)  # 1.0: a reason to retrain


def upkeep(db: Database, busiest: int, retention_days: float) -> Upkeep:
    """One round: the busiest series, retention applied, and their live scores."""
    found = Upkeep(queries.busiest(db, busiest), 0)
    queries.prune(db, retention_days)
    found.awaiting = queries.awaiting(db)
    for scores in (s for series in found.named for s in queries.scored_forecasts(db, series=series)):
        key = (scores.model, scores.series)
        found.scored[key] = len(scores.outcome)
        recent = slice(-RECENT, None)
        served = calibration.scores(scores.outcome[recent], scores.last[recent], scores.served[recent], scores.levels)
        for label, p in served.get("kupiec_p", {}).items():
            found.kupiec[(*key, label)] = p
        if len(scores.outcome) >= RECENT:  # the retraining job's rule, on the model's own intervals
            own = calibration.scores(scores.outcome[recent], scores.last[recent], scores.raw[recent], scores.levels)
            for label, p in own["kupiec_p"].items():
                found.retrain[(*key, label)] = float(p < RETRAIN_ALPHA)
    return found
