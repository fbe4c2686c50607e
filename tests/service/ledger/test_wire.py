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
from service.ledger.records import Answers
from service.ledger.upkeep import Upkeep
from tests.service.ledger.conftest import answer, answers, path


@pytest.fixture
def pipe() -> Iterator[tuple[Connection, Connection]]:
    read, write = os.pipe()
    ends = Connection(write, readable=False), Connection(read, writable=False)
    yield ends
    for end in ends:
        end.close()


def same(one: Answers, other: Answers) -> bool:
    """Equal field by field, arrays element by element (and of the same dtype as the store reads them)."""
    for name in Answers.__dataclass_fields__:
        mine, theirs = getattr(one, name), getattr(other, name)
        if isinstance(mine, np.ndarray) or isinstance(theirs, np.ndarray):
            if not np.array_equal(mine, theirs):
                return False
        elif mine != theirs:
            return False
    return True


def test_a_batch_comes_back_as_it_was_sent(pipe: tuple[Connection, Connection]) -> None:
    prices = path(400, seed=3)
    plain = answers(prices, range(60, 70))
    named = replace(answer(prices, 90, name="S&P 500 ✓ 日経"), as_of=["2019-01-02"], target=["2019-01-03"])
    raw = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    adapted = replace(answer(prices, 120), factors=[{"0.8": 1.25, "0.95": 0.875}], raw=raw)
    short = answer(path(30), 20, window=20)  # another model's window length and quantile count
    short = replace(short, levels=(0.1, 0.5, 0.9), served=np.array([[1.5, 2.5, 3.5]]))
    sent = [plain, named, adapted, short]
    wire.put(pipe[0], ("batch", sent))
    kind, back = wire.get(pipe[1])
    assert kind == "batch" and len(back) == 4 and all(same(a, b) for a, b in zip(sent, back, strict=True))
    assert [row for part in back for row in part.rows()] == [row for part in sent for row in part.rows()]


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
    prices = np.array([[1e-30, 3.4e38, 101.25, 7.0]], dtype=np.float32)
    wire.put(pipe[0], ("batch", [replace(answer(path(100), 80), prices=prices)]))
    ((back,),) = wire.get(pipe[1])[1:]
    assert back.prices.dtype == np.float32 and np.array_equal(back.prices, prices)
