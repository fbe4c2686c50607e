"""Keeping score of answers: every answered window gets an id and is handed to the ledger (off the request path);
with adaptive intervals on, its next-day quantiles are first scaled by its series' own state."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
from starlette.datastructures import State

from service.ledger import adaptive
from service.ledger.ledger import Ledger
from service.ledger.records import Answers, head_key
from service.model.forecaster import Forecaster


@dataclass(frozen=True)
class Asked:
    """What a request says about each of its windows: the series it belongs to and its last price's date."""

    names: list[str]  # "" where none was named
    as_of: list[str | None]  # ISO dates
    target: list[str | None]  # the day forecast: the next weekday after as_of


@dataclass(frozen=True)
class Kept:
    """The ids to answer with (None when nothing is recorded), the quantiles to answer, the adaptive factors."""

    ids: list[str] | None
    quantiles: np.ndarray  # (n, h, Q)
    factors: list[dict[str, float]] | None


class Ids:
    """Forecast ids as UUIDv7 lays them out: 48 bits of milliseconds, then 80 random bits (unguessable; in time
    order, so the store's index of them grows at its end). The random bytes come from the OS some thousands at a
    time: one system call per 409 ids on the request path, not one per request; a new process draws its own."""

    def __init__(self) -> None:
        self.pool, self.used = "", 0
        os.register_at_fork(after_in_child=self.forget)  # a forked process must not reuse its parent's draw

    def forget(self) -> None:
        self.pool, self.used = "", 0

    def take(self, n: int) -> list[str]:
        if self.used + 20 * n > len(self.pool):
            self.pool, self.used = os.urandom(10 * max(n, 409)).hex(), 0
        stamp, start = f"{time.time_ns() // 1_000_000:012x}", self.used
        self.used += 20 * n
        if n == 1:
            return [stamp + self.pool[start : start + 20]]
        return [stamp + self.pool[start + 20 * i : start + 20 * (i + 1)] for i in range(n)]


IDS = Ids()  # used by the event loop only


def unasked(n: int) -> Asked:
    return Asked([""] * n, [None] * n, [None] * n)


def prices_of(windows: np.ndarray) -> np.ndarray:
    """(n, T) float32 prices of the windows: the close itself, or a multi-feature model's first feature."""
    return windows[..., 0] if windows.ndim == 3 else windows


async def keep(state: State, model: Forecaster, windows: np.ndarray, quantiles: np.ndarray, asked: Asked) -> Kept:
    """Records the answers of one request (never waiting for the store) and returns what to answer with."""
    ledger: Ledger | None = getattr(state, "ledger", None)
    if ledger is None or not model.quantiles:
        return Kept(None, quantiles, None)
    prices, levels = prices_of(windows), tuple(model.quantiles)
    raw = quantiles[:, 0, :]
    factors = None
    if ledger.adapt:
        quantiles, factors = await adapted(ledger, model, prices, quantiles, asked)
    ids = IDS.take(len(prices))
    # the arrays as they are: the recorder's thread makes rows of them in bulk, off the request path
    answered = quantiles[:, 0, :]
    ledger.record(
        Answers(
            ids,
            asked.names,
            asked.as_of,
            asked.target,
            model.version,
            [time.time()] * len(ids),
            prices,
            levels,
            answered,
            raw if factors else None,
            factors,
        )
    )
    return Kept(ids, quantiles, factors)


async def adapted(
    ledger: Ledger, model: Forecaster, prices: np.ndarray, quantiles: np.ndarray, asked: Asked
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """The next-day quantiles scaled by each window's series state; the factors used."""
    keys = [(asked.names[i], head_key(prices[i])) for i in range(len(prices))]
    states = await ledger.thetas(keys, model.version)
    levels, scaled, factors = tuple(model.quantiles), quantiles.copy(), []
    for i, thetas in enumerate(states):
        row, used = adaptive.adjusted(quantiles[i, 0, :], levels, thetas)
        scaled[i, 0, :] = row
        factors.append(used)
    return scaled, factors
