"""The service's live record, read by the retraining job from its forecast store (a SQLite file or a PostgreSQL
URL): the champion's scored forecasts with their windows and outcomes; a live miscalibration as a reason to
retrain; and the challenger against the champion on those windows, by the same rule as on the holdout."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.scoring.gate import LIVE_ALPHA, LIVE_DAYS, improvement_verdict
from training.scoring.metrics import relative_pinball_by_day
from training.scoring.significance import chi2_1_sf, diebold_mariano_losses, lr_unconditional

log = logging.getLogger(__name__)

QUERY = (
    "SELECT chain, prices, last, levels, COALESCE(raw, served), outcome FROM forecasts WHERE model = {mark} "
    "AND outcome IS NOT NULL "
    "ORDER BY chain, COALESCE(target, ''), created, id"
)


@dataclass(frozen=True)
class LiveRecord:
    """The champion's scored forecasts, oldest first within each series: what it answered (before any adaptive
    scaling), the window it read, and the price that followed."""

    series: list[str]
    windows: list[np.ndarray]  # float32 prices as the model saw them
    last: np.ndarray
    outcome: np.ndarray
    quantiles: np.ndarray  # (N, Q)
    levels: tuple[float, ...]


def describe(store: str) -> str:
    """The store without a password, for logs and records."""
    if "://" not in store or "@" not in store:
        return store
    scheme, rest = store.split("://", 1)
    return f"{scheme}://{rest.rsplit('@', 1)[1]}"


def read_rows(store: str, model: str) -> list[tuple]:
    """The champion's scored rows; raises OSError (or the driver's error) when the store cannot be read."""
    if store.startswith(("postgresql://", "postgres://")):
        import psycopg  # the PostgreSQL driver: needed only for a PostgreSQL store

        with psycopg.connect(store, connect_timeout=10) as connection:
            return list(connection.execute(QUERY.format(mark="%s"), (model,)).fetchall())
    if not Path(store).is_file():
        raise FileNotFoundError(f"no store at {store}")
    reader = sqlite3.connect(f"file:{Path(store).resolve()}?mode=ro", uri=True, timeout=30)
    try:
        return reader.execute(QUERY.format(mark="?"), (model,)).fetchall()
    finally:
        reader.close()


def read_live(store: str, model: str) -> LiveRecord | None:
    """The champion's live record, or None when it has none (the newest level list if it ever changed)."""
    rows = read_rows(store, model)
    if not rows:
        return None
    levels = rows[-1][3]
    rows = [r for r in rows if r[3] == levels]
    return LiveRecord(
        [r[0] for r in rows],
        [np.frombuffer(r[1], dtype="<f4") for r in rows],
        np.array([r[2] for r in rows], dtype=np.float64),
        np.array([r[5] for r in rows], dtype=np.float64),
        np.array([np.frombuffer(r[4], dtype="<f8") for r in rows]),
        tuple(np.frombuffer(levels, dtype="<f8").tolist()),
    )


def intervals(levels: tuple[float, ...]) -> dict[str, tuple[int, int]]:
    """The central intervals of a level list: {'80': (index of 0.1, index of 0.9), ...}."""
    rounded = [round(level, 6) for level in levels]
    return {
        f"{round(100 * (1 - 2 * low)):g}": (i, rounded.index(round(1 - low, 6)))
        for i, low in enumerate(rounded)
        if low < 0.5 and round(1 - low, 6) in rounded
    }


def miscalibrated(live: LiveRecord) -> list[dict[str, Any]]:
    """Each series and interval whose last LIVE_DAYS scored days reject the champion's coverage (Kupiec p <
    LIVE_ALPHA): a reason to retrain. Series with fewer scored days are not judged."""
    found = []
    names = np.array(live.series)
    for name in sorted(set(live.series)):
        rows = np.flatnonzero(names == name)[-LIVE_DAYS:]
        if len(rows) < LIVE_DAYS:
            continue
        for label, (low, high) in intervals(live.levels).items():
            y, q = live.outcome[rows], live.quantiles[rows]
            misses = int(np.sum((y < q[:, low]) | (y > q[:, high])))
            p = chi2_1_sf(lr_unconditional(len(rows), misses, 1 - int(label) / 100))
            if p < LIVE_ALPHA:
                coverage = 1 - misses / len(rows)
                found.append({"series": name, "interval": label, "days": len(rows), "coverage": coverage, "p": p})
    return found


def reasons(found: list[dict[str, Any]]) -> list[str]:
    return [
        f"live miscalibration: {f['series']}'s {f['interval']}% interval held {f['coverage']:.3f} of its last "
        f"{f['days']} days (Kupiec p = {f['p']:.2g} < {LIVE_ALPHA})"
        for f in found
    ]


Quantiles = Callable[[np.ndarray], np.ndarray]  # (N, window) float32 prices -> (N, Q) next-day quantiles


def by_length(live: LiveRecord, usable: list[int], challenger: Quantiles, longest: int) -> np.ndarray:
    """The challenger's quantiles for the recorded windows (their newest `longest` prices), run length by length."""
    cut = [live.windows[i][-longest:] for i in usable]
    found = np.empty((len(cut), len(live.levels)))
    for n in sorted({len(w) for w in cut}):
        group = [j for j, w in enumerate(cut) if len(w) == n]
        found[group] = challenger(np.stack([cut[j] for j in group]))
    return found


def compare(
    live: LiveRecord, challenger: Quantiles, window: int, min_improvement: float, longest: int | None = None
) -> dict[str, Any]:
    """The challenger on the champion's recorded windows (their newest prices, up to the challenger's `longest`)
    against what the champion answered, scored on the prices that followed: pinball, Diebold-Mariano, and the
    verdict of the promotion rule."""
    usable = [i for i, w in enumerate(live.windows) if len(w) >= window]
    if not usable:
        return {"days": 0, "verdict": f"no recorded window holds the challenger's {window} prices"}
    rows = np.array(usable)
    levels = np.asarray(live.levels)
    ours = relative_pinball_by_day(
        live.last[rows], live.outcome[rows], by_length(live, usable, challenger, longest or window), levels
    )
    theirs = relative_pinball_by_day(live.last[rows], live.outcome[rows], live.quantiles[rows], levels)
    dm = diebold_mariano_losses(ours, theirs)
    improvement = 1.0 - float(ours.mean()) / float(theirs.mean())
    found = f"live: pinball improvement {improvement:+.3%} on {len(rows)} recorded days"
    promote, verdict = improvement_verdict(improvement, dm, found, min_improvement)
    return {
        "days": len(rows),
        "series": len({live.series[i] for i in usable}),
        "pinball_pct": {"challenger": float(ours.mean()), "champion": float(theirs.mean())},
        "pinball_improvement": improvement,
        "dm_pinball_vs_champion": dm,
        "challenger_better": promote,
        "verdict": verdict,
    }
