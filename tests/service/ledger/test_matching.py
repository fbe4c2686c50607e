"""Matching each forecast with its series' next day, on SQLite and on PostgreSQL: in any arrival order the same
series and the same outcomes, scored as a test computes them offline from the same answers and prices."""

from __future__ import annotations

import random

import numpy as np
import pytest

from service.ledger.calibration import scores
from service.ledger.database import Database
from service.ledger.matching import record_batch
from service.ledger.queries import scored_forecasts
from service.ledger.records import unpacked
from tests.service.ledger.conftest import LEVELS, path, record


def offline(prices: np.ndarray, days: range) -> dict:
    """What the day-by-day answers score against the prices that followed, computed here from scratch."""
    found = [record(prices, t) for t in days][:-1]  # the last forecast's day has not come
    outcome = np.array([float(prices[t]) for t in list(days)[:-1]])
    last = np.array([r.last for r in found])
    return scores(outcome, last, np.array([unpacked(r.served) for r in found]), LEVELS)


@pytest.mark.parametrize("order", ["in order", "shuffled", "reversed"])
def test_any_arrival_order_gives_one_series_and_every_outcome(database: Database, order: str) -> None:
    prices, days = path(400, seed=1), range(60, 400)
    records = [record(prices, t) for t in days]
    if order == "shuffled":
        random.Random(7).shuffle(records)
    elif order == "reversed":
        records.reverse()
    for start in range(0, len(records), 37):  # batches, as the writer takes them
        record_batch(database, records[start : start + 37], None)
    (found,) = scored_forecasts(database)
    expected = offline(prices, days)
    live = scores(found.outcome, found.last, found.served, found.levels)
    assert found.series.startswith("window-") and live["scored"] == expected["scored"] == 339
    for key in ("coverage", "hit_rate", "pinball", "kupiec_p", "christoffersen_p"):
        for name, value in expected[key].items():
            assert abs(live[key][name] - value) <= 1e-9, (key, name)


def test_each_series_keeps_its_own_chain_and_a_name_keeps_its_own(database: Database) -> None:
    one, two = path(200, seed=2), path(200, seed=3, start=50.0)
    batch = [record(one, t) for t in range(60, 200)] + [record(two, t) for t in range(60, 200)]
    batch += [record(one, t, name="one") for t in range(60, 200)]
    random.Random(1).shuffle(batch)
    written = record_batch(database, batch, None)
    found = {(s.series.startswith("window-"), len(s.outcome)) for s in scored_forecasts(database)}
    assert found == {(True, 139), (False, 139)} and len(scored_forecasts(database)) == 3
    assert not written.unmatched and written.duplicates == 0


def test_the_same_forecast_twice_is_recorded_once(database: Database) -> None:
    prices = path(100)
    first = record_batch(database, [record(prices, 70), record(prices, 71)], None)
    again = record_batch(database, [record(prices, 70), record(prices, 71), record(prices, 72)], None)
    assert first.recorded and again.duplicates == 2 and len(again.recorded) == 1
    assert [len(s.outcome) for s in scored_forecasts(database)] == [2]


def test_every_model_versions_forecast_of_a_day_is_scored(database: Database) -> None:
    prices = path(100)
    record_batch(database, [record(prices, 70, model="v1"), record(prices, 70, model="v2"), record(prices, 71)], None)
    found = {(s.model, len(s.outcome)) for s in scored_forecasts(database)}
    assert found == {("v1", 1), ("v2", 1)}


def test_a_longer_window_of_a_day_already_recorded_is_a_duplicate(database: Database) -> None:
    prices = path(100)
    written = record_batch(database, [record(prices, 70), record(prices, 70, window=70)], None)
    assert written.duplicates == 1 and len(written.recorded) == 1


def test_a_next_day_that_fits_two_series_is_ambiguous_and_not_scored(database: Database) -> None:
    one = path(100)
    twin = one.copy()
    twin[10] *= 1.5  # another series: the same last 59 prices before day 70, another one before them
    chains = [record(one, t, model="v1") for t in (68, 69, 70)] + [record(twin, t, model="v2") for t in (68, 69, 70)]
    record_batch(database, chains, None)
    assert len(scored_forecasts(database)) == 2  # two series, each scored on its own
    written = record_batch(database, [record(one, 71, model="v1")], None)
    assert written.unmatched["ambiguous"] == 1 and not written.scored
    assert sorted(len(s.outcome) for s in scored_forecasts(database)) == [2, 2]  # day 70 of neither was scored


@pytest.mark.parametrize("first", ["the earlier forecast", "the next day"])
def test_another_models_forecast_of_a_day_that_comes_late_is_scored(database: Database, first: str) -> None:
    prices = path(100)
    batches = [[record(prices, 70, model="v1")], [record(prices, 71, model="v1")]]
    for batch in batches if first == "the earlier forecast" else batches[::-1]:
        record_batch(database, batch, None)
    late = record_batch(database, [record(prices, 70, model="v2")], None)
    assert [(s.model, s.outcome) for s in late.scored] == [("v2", float(prices[70]))]
    found = {(s.model, len(s.outcome)) for s in scored_forecasts(database)}
    assert found == {("v1", 1), ("v2", 1)}


def test_only_a_window_recorded_before_the_day_it_follows_is_indexed_by_its_head(database: Database) -> None:
    prices = path(300)
    for start in range(100, 300, 40):
        record_batch(database, [record(prices, t) for t in range(start, start + 40)], None)
    record_batch(database, [record(prices, 99)], None)  # the day before all of them, posted last
    orphans = database.execute(database.connection(), "SELECT COUNT(*) FROM forecasts WHERE orphan = 1")
    assert orphans == [(2,)]  # the chain's first window, and the one posted after the day it is followed by
    (found,) = scored_forecasts(database)
    assert len(found.outcome) == 200 and found.outcome[0] == float(prices[99])
