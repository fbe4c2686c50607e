"""The trainer reads the service's store as the service wrote it (SQLite and a real PostgreSQL): the champion's
scored forecasts, a live miscalibration found by Kupiec on a series' last 250 days, and the challenger judged on
the recorded windows by the promotion rule."""

from __future__ import annotations

import numpy as np
import pytest

from service.ledger.database import Database
from service.ledger.matching import record_batch
from tests.service.ledger.conftest import LEVELS, Z, path, record
from training.publish.live import compare, describe, intervals, miscalibrated, read_live, read_rows


def written(db: Database, days: int, sigma: float, name: str, model: str = "v1", seed: int = 0) -> np.ndarray:
    """One series answered day by day by the service's own writer, with quantiles of volatility `sigma`."""
    prices = path(days, seed=seed)
    record_batch(db, [record(prices, t, name=name, model=model, sigma=sigma) for t in range(60, days)], None)
    return prices


def test_the_store_is_read_as_the_service_wrote_it(database: Database) -> None:
    prices = written(database, 400, 0.01, "calm")
    written(database, 120, 0.01, "other model", model="v0")
    live = read_live(database.where, "v1")
    assert live is not None and live.levels == LEVELS and set(live.series) == {"calm"}
    assert len(live.outcome) == 339 and np.array_equal(live.outcome, prices[60:399].astype(np.float64))
    assert np.array_equal(live.windows[0], prices[0:60]) and live.windows[0].dtype == np.float32
    expected = prices[60] * np.exp(0.01 * np.array(Z))  # answered for the window whose last day is day 60
    assert np.allclose(live.quantiles[1], expected, rtol=1e-6) and live.last[1] == float(prices[60])
    assert read_live(database.where, "v9") is None


def test_a_series_whose_intervals_miss_is_a_reason_and_a_short_one_is_not_judged(database: Database) -> None:
    written(database, 400, 0.01, "calibrated", seed=1)
    written(database, 400, 0.003, "too narrow", seed=2)  # a third of the true volatility
    written(database, 250, 0.003, "too short to judge", seed=3)  # 189 scored days
    live = read_live(database.where, "v1")
    assert live is not None
    found = miscalibrated(live)
    assert {(f["series"], f["interval"]) for f in found} == {("too narrow", "80"), ("too narrow", "95")}
    assert all(f["days"] == 250 and f["p"] < 0.01 and f["coverage"] < 0.6 for f in found)


def test_the_challenger_is_judged_on_the_recorded_windows_by_the_promotion_rule(database: Database) -> None:
    written(database, 700, 0.004, "narrow", seed=4)
    live = read_live(database.where, "v1")
    assert live is not None

    def honest(windows: np.ndarray) -> np.ndarray:  # the path's true volatility: better than the champion's
        return windows[:, -1:].astype(np.float64) * np.exp(0.01 * np.array(Z))

    def same(windows: np.ndarray) -> np.ndarray:
        return windows[:, -1:].astype(np.float64) * np.exp(0.004 * np.array(Z))

    better = compare(live, honest, 40, 0.0)
    assert better["days"] == 639 and better["challenger_better"] and better["pinball_improvement"] > 0.05
    assert better["dm_pinball_vs_champion"]["p_value"] < 0.05 and "significant" in better["verdict"]
    tie = compare(live, same, 60, 0.001)
    assert not tie["challenger_better"] and abs(tie["pinball_improvement"]) < 1e-6 and "< required" in tie["verdict"]
    assert compare(live, same, 61, 0.0) == {"days": 0, "verdict": "no recorded window holds the challenger's 61 prices"}


def test_intervals_passwords_and_a_missing_store() -> None:
    assert intervals(LEVELS) == {"95": (0, 4), "80": (1, 3)} and intervals((0.1, 0.5)) == {}
    assert describe("postgresql://forecast:s3cret@db:5432/forecast") == "postgresql://db:5432/forecast"
    assert describe("/var/lib/forecasts.sqlite") == "/var/lib/forecasts.sqlite"
    with pytest.raises(FileNotFoundError, match="no store at"):
        read_rows("/nowhere/forecasts.sqlite", "v1")
