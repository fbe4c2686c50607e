"""Recording a batch of answered forecasts, and matching each with the next day of its series: a window whose
prices before its last are another window's newest prices is that series' next day, and its last price is what
the earlier forecast was for. Both directions are checked, so the result does not depend on arrival order.

A batch costs two reads, one insert of many rows and a few updates, whatever its size: the rows it needs are read
at once, the batch is matched in memory (with itself too), and the changes are written together. The store indexes
every forecast by its newest prices, and by the prices before its last only those recorded before the day they
follow (few: a series' first window, or one that arrived out of order): the index a write must grow at random
places is one, not two."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress
from typing import Any

from service.ledger import adaptive
from service.ledger.calibration import central_intervals
from service.ledger.database import Database
from service.ledger.records import Row, chain_label, unpacked

NEW_COLUMNS = (
    *("id", "name", "chain", "as_of", "target", "model", "created", "head", "tail", "prices", "last", "levels"),
    *("served", "raw", "factors", "outcome", "source", "scored", "orphan"),
)
SCORE = "UPDATE forecasts SET outcome = ?, source = ?, scored = ? WHERE id = ? AND outcome IS NULL"
COLUMNS = "id, name, chain, model, levels, served, last, outcome, head, tail, source"
CHUNK = 400  # keys per IN (...) list: under SQLite's and PostgreSQL's parameter limits


@dataclass(slots=True)
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
        levels: dict[bytes, tuple[float, ...]] = {}  # the batch's few level lists, read once each
        for row in self.newly_scored:
            assert row.outcome is not None and row.source is not None
            key = bytes(row.levels)
            found = levels[key] if key in levels else levels.setdefault(key, unpacked(key))
            served = unpacked(row.served)
            self.written.scored.append(Scored(row.chain, row.model, found, served, row.last, row.outcome, row.source))
        return self.written

    def add(self, row: Row) -> None:
        self.by_tail.setdefault((row.tail, row.name), []).append(row)
        self.by_head.setdefault((row.head, row.name), []).append(row)
        self.seen.add((row.name, row.tail, row.model))
        self.rows.append(row)

    def score(self, row: Row, outcome: float, source: str = "window") -> None:
        """row meets its outcome, unless it has one already (then a different price is a conflict, counted)."""
        if row.outcome is not None:
            if row.outcome != outcome:
                self.written.unmatched["conflicting_outcome"] += 1
            return
        row.outcome, row.source, row.scored = outcome, source, time.time()
        self.newly_scored.append(row)

    def relabel(self, old: str, new: str) -> None:
        """A chain found to continue another: every row of it (stored or new) joins that one."""
        for row in self.rows:
            if row.chain == old and not row.name:
                row.chain = new
        self.relabels.append((old, new))

    def record(self, row: Row) -> None:
        """One new forecast: its series from the window before it, that window's outcome, and its own outcome
        from a later window recorded first (or from another model's forecast of the same day that met it)."""
        if (row.name, row.tail, row.model) in self.seen:
            self.written.duplicates += 1  # the same series, day and model: recorded already
            return
        before = self.by_tail.get((row.head, row.name), [])
        chains = {earlier.chain for earlier in before}
        ambiguous = not row.name and len(chains) > 1
        row.chain = row.name or (next(iter(chains)) if len(chains) == 1 else chain_label(row.head))
        row.orphan = not before
        self.written.recorded.append((row.model, row.chain))
        if ambiguous:  # the window continues two series: it starts one of its own, and neither is scored
            self.written.unmatched["ambiguous"] += 1
        for earlier in [] if ambiguous else before:
            self.score(earlier, row.last)
        self.take_outcome_from_later(row)
        self.take_outcome_from_siblings(row)
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

    def take_outcome_from_siblings(self, row: Row) -> None:
        """Another model's forecast of the same series and day knows the day's price when this one comes late: a
        later window that followed that forecast is not indexed by its head, and need not be."""
        if row.outcome is not None:
            return
        for sibling in self.by_tail.get((row.tail, row.name), []):
            if sibling.outcome is not None and sibling.source is not None:
                self.score(row, sibling.outcome, sibling.source)
                return


def read_rows(db: Database, connection: Any, where: str, keys: set[bytes]) -> list[Row]:
    """The stored forecasts that `where` (a condition on one key column, `IN ({marks})`) finds among `keys`."""
    found: list[Row] = []
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        chunk = [bytearray(key) for key in ordered[start : start + CHUNK]]  # bound fastest: see insert_values
        condition = where.format(marks=", ".join("?" * len(chunk)))
        for values in db.execute(connection, f"SELECT {COLUMNS} FROM forecasts WHERE {condition}", chunk):
            found.append(Row(*values))
    return found


def record_batch(db: Database, rows: list[Row], adapt_step: float | None) -> Written:
    """Every new row of a batch in arrival order, in one transaction under the store's write lock."""
    with db.writing() as connection:
        heads, tails = {r.head for r in rows}, {r.tail for r in rows}
        stored = read_rows(db, connection, "tail IN ({marks})", heads | tails)
        known = {row.id for row in stored}
        later = read_rows(db, connection, "orphan = 1 AND head IN ({marks})", tails)
        batch = Batch(stored + [row for row in later if row.id not in known])
        for row in rows:
            batch.record(row)
        write(db, connection, batch)
        written = batch.done()
        if adapt_step is not None:
            update_thetas(db, connection, written.scored, adapt_step)
    return written


def write(db: Database, connection: Any, batch: Batch) -> None:
    """The batch's changes: new rows (with their final series and any outcome), outcomes of stored rows, then the
    chains that joined others."""
    insert(db, connection, [row for row in batch.rows if row.new])
    scored = [(row.outcome, row.source, row.scored, row.id) for row in batch.rows if not row.new and row.scored]
    db.execute_many(connection, SCORE, scored)
    for old, chain in batch.relabels:
        db.execute(connection, "UPDATE forecasts SET chain = ? WHERE chain = ? AND name = ''", (chain, old))


def insert(db: Database, connection: Any, rows: list[Row]) -> None:
    """New rows, one statement for each set of values they lack: a missing value is left to the column's NULL, not
    bound, because sqlite3 looks up an adapter for every None it binds (about 0.5 us each here; most rows lack
    three or four)."""
    groups: dict[tuple[bool, ...], list[tuple[object, ...]]] = {}
    for row in rows:
        given = (row.as_of is not None, row.target is not None, row.raw is not None, row.factors is not None)
        groups.setdefault((*given, row.outcome is not None), []).append(insert_values(row))
    for (as_of, target, raw, factors, outcome), found in groups.items():
        mask = (1, 1, 1, as_of, target, 1, 1, 1, 1, 1, 1, 1, 1, raw, factors, outcome, outcome, outcome, 1)
        columns, marks = ", ".join(compress(NEW_COLUMNS, mask)), ", ".join("?" * sum(mask))
        text = f"INSERT INTO forecasts ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"
        db.execute_many(connection, text, [tuple(compress(values, mask)) for values in found])


def insert_values(row: Row) -> tuple[object, ...]:
    """One new row's values, in NEW_COLUMNS' order. Blobs go as bytearray: sqlite3 looks up an adapter for every
    bytes value it binds (about 0.75 us each here) and for no bytearray; psycopg takes either."""
    fields = (row.id, row.name, row.chain, row.as_of, row.target, row.model, row.created)
    blobs = (bytearray(row.head), bytearray(row.tail), row.prices, row.last, row.levels, row.served, row.raw)
    return (*fields, *blobs, row.factors, row.outcome, row.source, row.scored, int(row.orphan))


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
