"""Requests' answers joined as they are queued: one kind (model, levels, length, adapted or not) at a time, in order,
nothing lost or reordered."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from service.ledger.gathering import Gathering, gather
from tests.service.ledger.conftest import answer, joined, path


def test_requests_of_one_kind_are_joined_in_order() -> None:
    prices = path(400, seed=3)
    single = [answer(prices, t) for t in range(60, 160)]
    other = answer(prices, 160, model="v2")
    parts = joined([*single, other, answer(prices, 161, model="v2")])
    assert [len(part) for part in parts] == [100, 2]
    assert [row.id for part in parts for row in part.rows()] == [a.ids[0] for a in [*single, other]] + parts[1].ids[1:]


def test_a_gathering_holds_at_most_its_limit_then_a_new_one_starts() -> None:
    prices = path(200)
    found: list[Gathering] = []
    for t in range(60, 85):
        gather(found, answer(prices, t), limit=10)
    assert [g.count for g in found] == [10, 10, 5]
    joined_prices = np.concatenate([g.answers().prices for g in found])
    assert np.array_equal(joined_prices, np.stack([prices[t - 60 : t] for t in range(60, 85)]))


def test_adapted_answers_keep_their_raw_quantiles_and_factors() -> None:
    prices = path(200)
    raw = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    adapted = [replace(answer(prices, t), raw=raw * t, factors=[{"0.8": float(t)}]) for t in (70, 71)]
    (one,) = joined(adapted)
    assert one.raw is not None and np.array_equal(one.raw, np.vstack([raw * 70, raw * 71]))
    assert one.factors == [{"0.8": 70.0}, {"0.8": 71.0}]
    assert [len(part) for part in joined([adapted[0], answer(prices, 72)])] == [1, 1]  # adapted or not: two kinds
