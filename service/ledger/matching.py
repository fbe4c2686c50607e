"""Recording a batch of answered forecasts, and matching each with the next day of its series: a window whose
prices before its last are another window's newest prices is that series' next day, and its last price is what
the earlier forecast was for. Both directions are checked, so the result does not depend on arrival order.

A batch costs two reads, one insert of many rows and a few updates, whatever its size: the rows it needs are read
at once, the batch is matched in memory (with itself too), and the changes are written together."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.ledger import adaptive
from service.ledger.calibration import central_intervals
from service.ledger.database import Database
from service.ledger.records import ForecastRecord, chain_label, packed, packed_levels, unpacked

INSERT = """INSERT INTO forecasts (id, name, chain, as_of, target, model, created, head, tail, prices, last, levels,
    served, raw, factors, outcome, source, scored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO NOTHING"""
SCORE = "UPDATE forecasts SET outcome = ?, source = ?, scored = ? WHERE id = ? AND outcome IS NULL"
COLUMNS = "id, name, chain, model, levels, served, last, outcome, head, tail"
CHUNK = 400  # keys per IN (...) list: under SQLite's and PostgreSQL's parameter limits


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


@dataclass(slots=True)
class Row:
    """A forecast as the matching sees it: stored already, or new in this batch."""

    id: str
    name: str
    chain: str
    model: str
    levels: bytes  # float64, as stored
    served: bytes
    last: float
    outcome: float | None
    head: bytes
    tail: bytes
    new: bool = False
    scored: float | None = None  # when this batch scored it


def scored_row(row: tuple, outcome: float, source: str) -> Scored:
    """A Scored from (chain, model, levels, served, last) as stored."""
    chain, model, levels, served, last = row
    return Scored(chain, model, unpacked(levels), unpacked(served), last, outcome, source)


class Batch:
    """The rows a batch can match with, indexed by their keys, and the changes to write."""

    def __init__(self, stored: list[Row]) -> None:
        self.by_tail: dict[tuple[bytes, str], list[Row]] = {}
        self.by_head: dict[tuple[bytes, str], list[Row]] = {}
        self.seen: set[tuple[str, bytes, str]] = set()
        self.rows: list[Row] = []
        for row in stored:
            self.add(row)
        self.relabels: list[tuple[str, str]] = []
        self.newly_scored: list[Row] = []
        self.written = Written()

    def done(self) -> Written:
        """What the batch did, each scored forecast under its series as it ends up (after any chains joined)."""
        for row in self.newly_scored:
            assert row.outcome is not None
            found = scored_row((row.chain, row.model, row.levels, row.served, row.last), row.outcome, "window")
            self.written.scored.append(found)
        return self.written

    def add(self, row: Row) -> None:
        self.by_tail.setdefault((row.tail, row.name), []).append(row)
        self.by_head.setdefault((row.head, row.name), []).append(row)
        self.seen.add((row.name, row.tail, row.model))
        self.rows.append(row)

    def score(self, row: Row, outcome: float) -> None:
        """row meets its outcome, unless it has one already (then a different price is a conflict, counted)."""
        if row.outcome is not None:
            if row.outcome != outcome:
                self.written.unmatched["conflicting_outcome"] += 1
            return
        row.outcome, row.scored = outcome, time.time()
        self.newly_scored.append(row)

    def relabel(self, old: str, new: str) -> None:
        """A chain found to continue another: every row of it (stored or new) joins that one."""
        for row in self.rows:
            if row.chain == old and not row.name:
                row.chain = new
        self.relabels.append((old, new))

    def record(self, record: ForecastRecord) -> None:
        """One new forecast: its series from the window before it, that window's outcome, and its own outcome
        from a later window recorded first."""
        if (record.name, record.tail, record.model) in self.seen:
            self.written.duplicates += 1  # the same series, day and model: recorded already
            return
        before = self.by_tail.get((record.head, record.name), [])
        chains = {row.chain for row in before}
        ambiguous = not record.name and len(chains) > 1
        chain = record.name or (next(iter(chains)) if len(chains) == 1 else chain_label(record.head))
        levels, served = packed_levels(record.levels), packed(record.served)
        row = Row(
            record.id, record.name, chain, record.model, levels, served, record.last, None, record.head, record.tail
        )
        row.new = True
        self.written.recorded.append((record.model, chain))
        if ambiguous:  # the window continues two series: it starts one of its own, and neither is scored
            self.written.unmatched["ambiguous"] += 1
        for earlier in [] if ambiguous else before:
            self.score(earlier, row.last)
        self.take_outcome_from_later(row)
        self.add(row)

    def take_outcome_from_later(self, row: Row) -> None:
        after = self.by_head.get((row.tail, row.name), [])
        if not after:
            return
        if len({later.last for later in after}) > 1:
            self.written.unmatched["ambiguous"] += 1
            return
        self.score(row, after[0].last)
        for chain in {later.chain for later in after} - {row.chain}:
            if not row.name:  # the later windows began a chain of their own: it continues this one
                self.relabel(chain, row.chain)


def read_rows(db: Database, connection: Any, column: str, keys: set[bytes]) -> list[Row]:
    """The stored forecasts whose `column` (head or tail) is one of `keys`."""
    found: list[Row] = []
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        chunk = [bytearray(key) for key in ordered[start : start + CHUNK]]  # bound fastest: see insert_values
        marks = ", ".join("?" * len(chunk))
        for values in db.execute(connection, f"SELECT {COLUMNS} FROM forecasts WHERE {column} IN ({marks})", chunk):
            found.append(Row(*values))
    return found


def record_batch(db: Database, records: list[ForecastRecord], adapt_step: float | None) -> Written:
    """Every record of a batch in arrival order, in one transaction under the store's write lock."""
    with db.writing() as connection:
        stored = read_rows(db, connection, "tail", {r.head for r in records} | {r.tail for r in records})
        known = {row.id for row in stored}
        stored += [row for row in read_rows(db, connection, "head", {r.tail for r in records}) if row.id not in known]
        batch = Batch(stored)
        for record in records:
            batch.record(record)
        write(db, connection, batch, {r.id: r for r in records})
        written = batch.done()
        if adapt_step is not None:
            update_thetas(db, connection, written.scored, adapt_step)
    return written


def write(db: Database, connection: Any, batch: Batch, records: dict[str, ForecastRecord]) -> None:
    """The batch's changes: new rows (with their final series and any outcome), outcomes of stored rows, then the
    chains that joined others."""
    new = [row for row in batch.rows if row.new]
    db.execute_many(connection, INSERT, [insert_values(row, records[row.id]) for row in new])
    scored = [(row.outcome, "window", row.scored, row.id) for row in batch.rows if not row.new and row.scored]
    db.execute_many(connection, SCORE, scored)
    for old, chain in batch.relabels:
        db.execute(connection, "UPDATE forecasts SET chain = ? WHERE chain = ? AND name = ''", (chain, old))


def insert_values(row: Row, record: ForecastRecord) -> list[object]:
    """One new row's values. Blobs go as bytearray: sqlite3 looks up an adapter for every bytes value it binds
    (about 0.75 us each here, six per row) and for no bytearray; psycopg takes either."""
    factors = json.dumps(record.factors) if record.factors is not None else None
    values: list[object] = [row.id, row.name, row.chain, record.as_of, record.target, row.model, record.created]
    prices = bytearray(np.ascontiguousarray(record.prices, dtype="<f4"))  # one copy of the float32 bytes
    raw = row.served if record.raw is record.served else packed(record.raw)
    values += [bytearray(row.head), bytearray(row.tail), prices, row.last, bytearray(row.levels)]
    values += [bytearray(row.served), bytearray(raw), factors, row.outcome, "window" if row.scored else None]
    return [*values, row.scored]


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
