"""The ledger's tests run on both stores (the `database` fixture): forecasts of simulated price paths."""

from __future__ import annotations

import time
import uuid

import numpy as np

from service.ledger.gathering import Gathering, gather
from service.ledger.records import Answers, Row

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)
Z = (-1.96, -1.2816, 0.0, 1.2816, 1.96)  # normal quantiles of those levels


def path(n: int, seed: int = 0, start: float = 100.0) -> np.ndarray:
    """A price path of n days (float32, as the model sees prices)."""
    rng = np.random.default_rng(seed)
    return (start * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))).astype(np.float32)


def answer(
    prices: np.ndarray, t: int, name: str = "", model: str = "v1", window: int = 60, sigma: float = 0.01
) -> Answers:
    """The forecast made from the window ending at day t-1 (so its outcome is prices[t]): normal quantiles, as the
    request path hands it to the recorder."""
    w = prices[t - window : t]
    served = np.array([[float(w[-1] * np.exp(sigma * z)) for z in Z]])
    return Answers(
        [uuid.uuid4().hex], [name], [None], [None], model, [time.time() + t], w[None, :], LEVELS, served, None, None
    )


def joined(parts: list[Answers]) -> list[Answers]:
    """Consecutive answers of one kind as one, as the recorder's queue joins them."""
    gatherings: list[Gathering] = []
    for part in parts:
        gather(gatherings, part, limit=len(parts))
    return [found.answers() for found in gatherings]


def answers(prices: np.ndarray, days: range, **options: object) -> Answers:
    """answer() of each day, as one request's answers."""
    (found,) = joined([answer(prices, t, **options) for t in days])  # type: ignore[arg-type]
    return found


def record(prices: np.ndarray, t: int, **options: object) -> Row:
    """answer() as the writer process makes it a new row of the store."""
    (row,) = answer(prices, t, **options).rows()  # type: ignore[arg-type]
    return row
