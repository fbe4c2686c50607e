"""What the service asks the ledger besides recording: outcomes posted by clients, the scored forecasts behind
/calibration, a series' adaptive state, the busiest series, and retention."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.ledger.database import Database
from service.ledger.matching import SCORE, Scored, scored_row, update_thetas
from service.ledger.records import unpacked


@dataclass(frozen=True)
class Outcome:
    """A realised price for one forecast (by its id) or for a series' day (by name and date)."""

    price: float
    forecast_id: str | None = None
    series: str | None = None
    date: str | None = None

    def describe(self) -> str:
        return f"forecast_id {self.forecast_id!r}" if self.forecast_id else f"series {self.series!r} on {self.date}"


class OutcomeRefused(Exception):
    """Outcomes that cannot be scored, all or none: `missing` names no forecast, `conflicts` hold another price."""

    def __init__(self, missing: list[Outcome], conflicts: list[tuple[Outcome, float]]) -> None:
        super().__init__("outcomes refused")
        self.missing, self.conflicts = missing, conflicts


FORECAST_COLUMNS = "id, chain, model, levels, served, last, outcome"


def forecasts_of(db: Database, connection: Any, outcome: Outcome) -> list[tuple]:
    """The forecasts an outcome is for: the one with its id, or every model's for the series' day."""
    if outcome.forecast_id is not None:
        return db.execute(connection, f"SELECT {FORECAST_COLUMNS} FROM forecasts WHERE id = ?", (outcome.forecast_id,))
    by_day = f"SELECT {FORECAST_COLUMNS} FROM forecasts WHERE name = ? AND target = ?"
    return db.execute(connection, by_day, (outcome.series, outcome.date))


def post_outcomes(db: Database, outcomes: list[Outcome], adapt_step: float | None = None) -> tuple[list[Scored], int]:
    """Scores every outcome in one transaction, or none (OutcomeRefused): the forecasts scored now, and how many
    had this very outcome already (the same outcome twice is scored once). Adaptive states move with them."""
    scored: list[Scored] = []
    already = 0
    missing: list[Outcome] = []
    conflicts: list[tuple[Outcome, float]] = []
    with db.writing() as connection:
        for outcome in outcomes:
            rows = forecasts_of(db, connection, outcome)
            missing += [] if rows else [outcome]
            for row in rows:
                if row[6] is None:
                    db.execute(connection, SCORE, (outcome.price, "posted", time.time(), row[0]))
                    scored.append(scored_row(row[1:6], outcome.price, "posted"))
                elif row[6] == outcome.price:
                    already += 1
                else:
                    conflicts.append((outcome, row[6]))
        if missing or conflicts:
            raise OutcomeRefused(missing, conflicts)  # rolls the whole request back
        if adapt_step is not None:
            update_thetas(db, connection, scored, adapt_step)
    return scored, already


@dataclass(frozen=True)
class Scores:
    """The scored forecasts of one series and model version, oldest first."""

    series: str
    model: str
    levels: tuple[float, ...]
    outcome: np.ndarray  # (N,)
    last: np.ndarray  # (N,)
    served: np.ndarray  # (N, Q)
    raw: np.ndarray  # (N, Q): before adaptive scaling
    adapted: bool
    dates: list[str | None]  # the day each forecast was for, where its series named dates


def scored_forecasts(
    db: Database, series: str | None = None, model: str | None = None, days: float | None = None
) -> list[Scores]:
    """Every series' and model's scored forecasts, in the order of their days (the forecast date, else when
    answered), optionally one series, one model, or those answered in the last `days` days."""
    where, params = ["outcome IS NOT NULL"], list[object]()
    for column, value in (("chain", series), ("model", model)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if days is not None:
        where.append("created >= ?")
        params.append(time.time() - days * 86_400)
    rows = db.execute(
        db.connection(),
        "SELECT chain, model, levels, served, COALESCE(raw, served), outcome, last, factors, target FROM forecasts "
        "WHERE " + " AND ".join(where) + " ORDER BY chain, model, COALESCE(target, ''), created, id",
        params,
    )
    return group_scores(rows)


def group_scores(rows: list[tuple]) -> list[Scores]:
    """Rows (chain, model, levels, served, raw, outcome, last, factors, target) grouped by series, model and levels."""
    groups: dict[tuple[str, str, bytes], list[tuple]] = {}
    for row in rows:
        groups.setdefault((row[0], row[1], row[2]), []).append(row)
    found = []
    for (series, model, levels), members in groups.items():
        found.append(
            Scores(
                series,
                model,
                unpacked(levels),
                np.array([m[5] for m in members]),
                np.array([m[6] for m in members]),
                np.array([np.frombuffer(m[3], dtype="<f8") for m in members]),
                np.array([np.frombuffer(m[4], dtype="<f8") for m in members]),
                any(m[7] is not None for m in members),
                [m[8] for m in members],
            )
        )
    return found


def series_of(db: Database, forecast_id: str) -> str | None:
    """The series a forecast is scored under (its name, or its chain of windows)."""
    rows = db.execute(db.connection(), "SELECT chain FROM forecasts WHERE id = ?", (forecast_id,))
    return rows[0][0] if rows else None


def chain_before(db: Database, name: str, head: bytes) -> str | None:
    """The series a window without a name continues: the one whose newest prices it starts with, if just one."""
    rows = db.execute(db.connection(), "SELECT DISTINCT chain FROM forecasts WHERE tail = ? AND name = ?", (head, name))
    return rows[0][0] if len(rows) == 1 else None


def thetas(db: Database, chain: str, model: str) -> dict[str, float]:
    """A series' adaptive state for one model version, by central interval ('0.8': theta)."""
    rows = db.execute(db.connection(), "SELECT band, theta FROM adaptive WHERE chain = ? AND model = ?", (chain, model))
    return {band: theta for band, theta in rows}


def busiest(db: Database, limit: int) -> list[str]:
    """The series with the most forecasts: those the metrics name (the rest are 'other')."""
    rows = db.execute(
        db.connection(), "SELECT chain FROM forecasts GROUP BY chain ORDER BY COUNT(*) DESC, chain LIMIT ?", (limit,)
    )
    return [row[0] for row in rows]


def awaiting(db: Database) -> int:
    """Forecasts recorded and not scored yet: their day has not come, or it never matched."""
    return int(db.execute(db.connection(), "SELECT COUNT(*) FROM forecasts WHERE outcome IS NULL")[0][0])


def prune(db: Database, days: float) -> int:
    """Deletes what was answered more than `days` days ago (posted prices included); returns how many."""
    with db.writing() as connection:
        cursor = connection.execute(db.sql("DELETE FROM forecasts WHERE created < ?"), (time.time() - days * 86_400,))
        return int(cursor.rowcount)
