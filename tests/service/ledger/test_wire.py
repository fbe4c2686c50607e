"""The pipe to the writer process: every message comes back as it was sent, over a real pipe, and a frame that is
not the wire's own is refused rather than run."""

from __future__ import annotations

import os
import pickle
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from multiprocessing.connection import Connection

import numpy as np
import pytest

from service.ledger import wire
from service.ledger.records import as_row
from service.ledger.upkeep import Upkeep
from tests.service.ledger.conftest import path, record


@pytest.fixture
def pipe() -> Iterator[tuple[Connection, Connection]]:
    read, write = os.pipe()
    ends = Connection(write, readable=False), Connection(read, writable=False)
    yield ends
    for end in ends:
        end.close()


def test_a_batch_comes_back_row_for_row(pipe: tuple[Connection, Connection]) -> None:
    prices = path(400, seed=3)
    plain = [as_row(record(prices, t)) for t in range(60, 70)]
    named = as_row(replace(record(prices, 90, name="S&P 500 ✓ 日経"), as_of="2019-01-02", target="2019-01-03"))
    adapted = as_row(replace(record(prices, 120), factors={"0.8": 1.25, "0.95": 0.875}, raw=(1.0, 2.0, 3.0, 4.0, 5.0)))
    short = as_row(record(path(30), 20, window=20))  # another model's window length and quantile count
    short = (*short[:7], (0.1, 0.5, 0.9), (1.5, 2.5, 3.5), (1.5, 2.5, 3.5), *short[10:])
    rows = [*plain, named, adapted, short]
    wire.put(pipe[0], ("batch", rows))
    assert wire.get(pipe[1]) == ("batch", rows)


def test_reports_and_settings_come_back_as_sent(pipe: tuple[Connection, Connection]) -> None:
    tallies = Counter({("recorded", "v1", "spx"): 3, ("pinball", "v1", "spx", "0.1"): 0.125})
    found = Upkeep(["spx"], 7, {("v1", "spx"): 250}, {("v1", "spx", "0.8"): 0.5}, {("v1", "spx", "0.8"): 1.0})
    config = {"store": "/tmp/f.sqlite", "adapt_step": None, "upkeep": True, "busiest": 20, "retention_days": 730.0}
    sent = [("written", 3, tallies), ("upkeep", found), ("dropped", 2, "store_error"), ("stop",), config]
    for message in sent:
        wire.put(pipe[0], message)
    assert [wire.get(pipe[1]) for _ in sent] == sent


def test_a_frame_of_anything_but_the_wire_is_refused(pipe: tuple[Connection, Connection]) -> None:
    pipe[0].send_bytes(pickle.dumps(("stop",)))
    with pytest.raises(ValueError):
        wire.get(pipe[1])


def test_prices_cross_as_the_model_saw_them(pipe: tuple[Connection, Connection]) -> None:
    prices = np.array([1e-30, 3.4e38, 101.25, 7.0], dtype=np.float32)
    row = as_row(replace(record(path(100), 80), prices=prices))
    wire.put(pipe[0], ("batch", [row]))
    (back,) = wire.get(pipe[1])[1]
    assert np.array_equal(np.frombuffer(back[6], dtype="<f4"), prices)
