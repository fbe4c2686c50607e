"""Upkeep: retention applied, the busiest series named, and per series the days scored, Kupiec's p of the intervals
as served over the last 250 days, and whether the model's own intervals give the retraining job a reason."""

from __future__ import annotations

import time
from dataclasses import replace

from service.ledger.database import Database
from service.ledger.matching import record_batch
from service.ledger.queries import scored_forecasts
from service.ledger.upkeep import upkeep
from tests.service.ledger.conftest import path, record


def test_upkeep_names_the_busiest_scores_them_and_prunes(database: Database) -> None:
    calm, narrow = path(400, seed=3), path(400, seed=4)
    record_batch(database, [record(calm, t, name="calm") for t in range(60, 400)], None)
    record_batch(database, [record(narrow, t, name="narrow", sigma=0.003) for t in range(60, 400)], None)
    old = [record(calm, t, name="old") for t in range(60, 70)]
    record_batch(database, [replace(r, created=time.time() - 10 * 86_400) for r in old], None)
    found = upkeep(database, busiest=2, retention_days=5)
    assert sorted(found.named) == ["calm", "narrow"] and found.awaiting == 2  # each series' newest forecast
    assert found.scored == {("v1", "calm"): 339, ("v1", "narrow"): 339}
    assert found.retrain[("v1", "narrow", "0.8")] == 1.0 and found.retrain[("v1", "calm", "0.8")] == 0.0
    assert found.kupiec[("v1", "narrow", "0.95")] < 0.01 < found.kupiec[("v1", "calm", "0.95")]
    assert "old" not in {s.series for s in scored_forecasts(database)}  # ten days old: past retention
