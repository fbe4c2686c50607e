"""Recording a batch of answered forecasts, and matching each with the next day of its series: a window whose
prices before its last are another window's newest prices is that series' next day, and its last price is what
the earlier forecast was for. Both directions are checked, so the result does not depend on arrival order."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from service.ledger import adaptive
from service.ledger.calibration import central_intervals
from service.ledger.database import Database
from service.ledger.records import ForecastRecord, chain_label

INSERT = """INSERT INTO forecasts (id, name, chain, as_of, target, model, created, head, tail, prices, last, levels,
    served, raw, factors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"""
SCORE = "UPDATE forecasts SET outcome = ?, source = ?, scored = ? WHERE id = ? AND outcome IS NULL"


@dataclass(frozen=True)
class Scored:
    """A forecast that has just met its outcome: what the metrics and the adaptive state need."""

    chain: str
    model: str
    levels: tuple[float, ...]
    served: tuple[float, ...]
    last: float
    outcome: float
    source: str  # "window" (the next day's window) or "posted" (POST /outcomes)


@dataclass
class Written:
    """What one write did: recorded (by model and series), duplicates, outcomes scored, what stayed unmatched."""

    recorded: list[tuple[str, str]] = field(default_factory=list)
    duplicates: int = 0
    scored: list[Scored] = field(default_factory=list)
    unmatched: Counter[str] = field(default_factory=Counter)


def scored_row(row: tuple, outcome: float, source: str) -> Scored:
    """A Scored from (chain, model, levels json, served json, last)."""
    chain, model, levels, served, last = row
    return Scored(chain, model, tuple(json.loads(levels)), tuple(json.loads(served)), last, outcome, source)


def record_batch(db: Database, records: list[ForecastRecord], adapt_step: float | None) -> Written:
    """Every record of a batch in arrival order, in one transaction under the store's write lock."""
    written = Written()
    with db.writing() as connection:
        for record in records:
            record_one(db, connection, record, written)
        if adapt_step is not None:
            update_thetas(db, connection, written.scored, adapt_step)
    return written


def record_one(db: Database, connection: Any, record: ForecastRecord, written: Written) -> None:
    """Inserts one forecast, scores the forecast its window follows, and takes its outcome from a later window
    that arrived first (another worker's, or a request answered out of order)."""
    before = db.execute(
        connection,
        "SELECT id, chain, model, levels, served, last, outcome FROM forecasts WHERE tail = ? AND name = ?",
        (record.head, record.name),
    )
    chains = {row[1] for row in before}
    ambiguous = not record.name and len(chains) > 1
    chain = record.name or (chains.pop() if len(chains) == 1 else chain_label(record.head))
    if not insert(db, connection, record, chain):
        written.duplicates += 1
        return
    written.recorded.append((record.model, chain))
    if ambiguous:
        written.unmatched["ambiguous"] += 1
    elif not before:
        written.unmatched["no_earlier_window"] += 1
    for row in [] if ambiguous else before:
        score_if_new(db, connection, row, record.last, written)
    take_outcome_from_later(db, connection, record, chain, written)


def insert(db: Database, connection: Any, record: ForecastRecord, chain: str) -> bool:
    """True when the forecast was new (the same series, day and model seen before is a duplicate)."""
    factors = json.dumps(record.factors) if record.factors is not None else None
    values: list[object] = [record.id, record.name, chain, record.as_of, record.target, record.model, record.created]
    values += [record.head, record.tail, record.prices.astype("<f4").tobytes(), record.last, json.dumps(record.levels)]
    values += [json.dumps(record.served), json.dumps(record.raw), factors]
    cursor = connection.execute(db.sql(INSERT), values)
    return bool(cursor.rowcount)


def score_if_new(db: Database, connection: Any, row: tuple, outcome: float, written: Written) -> None:
    """row (id, chain, model, levels, served, last, outcome): scored unless it has an outcome already (then a
    different price is a conflict, counted, and the first outcome stays)."""
    if row[6] is not None:
        if row[6] != outcome:
            written.unmatched["conflicting_outcome"] += 1
        return
    db.execute(connection, SCORE, (outcome, "window", time.time(), row[0]))
    written.scored.append(scored_row(row[1:6], outcome, "window"))


def take_outcome_from_later(
    db: Database, connection: Any, record: ForecastRecord, chain: str, written: Written
) -> None:
    """A window recorded before this one that is its next day: this forecast's outcome, and one series."""
    after = db.execute(
        connection,
        "SELECT chain, last FROM forecasts WHERE head = ? AND name = ? AND id <> ?",
        (record.tail, record.name, record.id),
    )
    if not after:
        return
    if len({row[1] for row in after}) > 1:
        written.unmatched["ambiguous"] += 1
        return
    mine = (record.id, chain, record.model, json.dumps(record.levels), json.dumps(record.served), record.last, None)
    score_if_new(db, connection, mine, after[0][1], written)
    for later in {row[0] for row in after} - {chain}:
        if not record.name:  # the later windows began a chain of their own: it continues this one
            db.execute(connection, "UPDATE forecasts SET chain = ? WHERE chain = ? AND name = ''", (chain, later))


def update_thetas(db: Database, connection: Any, scored: list[Scored], size: float) -> None:
    """Each scored forecast moves its series' adaptive scale of every central interval by one step."""
    for found in scored:
        for label in central_intervals(found.levels):
            key = (found.chain, found.model, label)
            rows = db.execute(connection, "SELECT theta FROM adaptive WHERE chain = ? AND model = ? AND band = ?", key)
            miss = adaptive.missed(found.outcome, found.served, found.levels, label)
            theta = adaptive.step(rows[0][0] if rows else 0.0, miss, label, size)
            db.execute(
                connection,
                "INSERT INTO adaptive (chain, model, band, theta, updated) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (chain, model, band) DO UPDATE SET theta = excluded.theta, updated = excluded.updated",
                (*key, theta, time.time()),
            )
