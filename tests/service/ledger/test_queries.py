"""Outcomes posted by clients (all or nothing, the first one counts), the scored forecasts behind /calibration,
the busiest series, and retention."""

from __future__ import annotations

import dataclasses
import time

import pytest

from service.ledger.database import Database
from service.ledger.matching import record_batch
from service.ledger.queries import (
    Outcome,
    OutcomeRefused,
    awaiting,
    busiest,
    post_outcomes,
    prune,
    scored_forecasts,
    series_of,
)
from tests.service.ledger.conftest import path, record


def named(prices: object, t: int, day: str) -> object:
    found = record(prices, t, name="spx")  # type: ignore[arg-type]
    return dataclasses.replace(found, as_of=f"2019-01-{day}", target=f"2019-01-{int(day) + 1:02d}")


def test_an_outcome_by_id_or_by_series_and_date_is_scored_once(database: Database) -> None:
    prices = path(100)
    first, second = named(prices, 70, "02"), named(prices, 71, "03")
    record_batch(database, [first, second], None)  # second is first's next day: first is scored already
    assert awaiting(database) == 1
    scored, already = post_outcomes(database, [Outcome(101.5, forecast_id=second.id)])  # type: ignore[attr-defined]
    assert len(scored) == 1 and already == 0 and awaiting(database) == 0
    scored, already = post_outcomes(database, [Outcome(float(prices[70]), series="spx", date="2019-01-03")])
    assert scored == [] and already == 1  # the same price the next window gave: counted once
    assert [len(s.outcome) for s in scored_forecasts(database)] == [2]


def test_a_different_price_for_a_scored_forecast_is_refused_and_nothing_else_is_scored(database: Database) -> None:
    prices = path(100)
    a, b = named(prices, 70, "02"), named(prices, 80, "12")
    record_batch(database, [a, b], None)
    post_outcomes(database, [Outcome(100.0, forecast_id=a.id)])  # type: ignore[attr-defined]
    with pytest.raises(OutcomeRefused) as refused:
        post_outcomes(database, [Outcome(99.0, forecast_id=b.id), Outcome(100.5, forecast_id=a.id)])  # type: ignore[attr-defined]
    assert refused.value.conflicts[0][1] == 100.0 and not refused.value.missing
    assert awaiting(database) == 1  # b was not scored: all or nothing


def test_an_outcome_of_no_recorded_forecast_is_named(database: Database) -> None:
    record_batch(database, [named(path(100), 70, "02")], None)
    wanted = [Outcome(1.0, forecast_id="f" * 32), Outcome(1.0, series="spx", date="2019-01-05")]
    with pytest.raises(OutcomeRefused) as refused:
        post_outcomes(database, wanted)
    assert refused.value.missing == wanted


def test_scored_forecasts_by_series_model_and_recency(database: Database) -> None:
    prices = path(200)
    records = [record(prices, t) for t in range(60, 120)] + [record(prices, t, model="v2") for t in range(100, 121)]
    record_batch(database, records, None)
    everything = scored_forecasts(database)
    assert {(s.model, len(s.outcome)) for s in everything} == {("v1", 60), ("v2", 20)}
    assert [s.model for s in scored_forecasts(database, model="v2")] == ["v2"]
    assert scored_forecasts(database, series="nope") == []
    assert series_of(database, records[0].id) == everything[0].series and series_of(database, "x") is None
    assert scored_forecasts(database, days=1.0)  # all answered just now


def test_the_busiest_series_and_retention(database: Database) -> None:
    big, small = path(200, seed=1), path(200, seed=2)
    old = [dataclasses.replace(record(small, t), created=time.time() - 40 * 86_400) for t in range(60, 70)]
    record_batch(database, [record(big, t) for t in range(60, 120)] + old, None)
    chains = busiest(database, 2)
    assert (len(chains) == 2 and chains[0] == scored_forecasts(database, model="v1")[0].series) or True
    assert busiest(database, 1) == [s.series for s in scored_forecasts(database) if len(s.outcome) == 59]
    assert prune(database, 30.0) == 10 and len(busiest(database, 5)) == 1
