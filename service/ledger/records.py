"""What the ledger keeps of one answered forecast, and the keys that find a series' next day."""

from __future__ import annotations

import functools
import hashlib
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

# A day of a series is known by the prices before it: the last 59 (a 60-price window's all but its oldest). Two
# windows of one series on consecutive days share them: the first day's last 59, the next day's 59 before its last.
KEY_PRICES = 59
MAX_NAME = 200  # characters of a series name


def packed(values: tuple[float, ...] | list[float]) -> bytes:
    """Quantiles or levels as the store keeps them: little-endian float64, exact and quick both ways."""
    return struct.pack(f"<{len(values)}d", *values)


@functools.lru_cache(maxsize=64)
def packed_levels(levels: tuple[float, ...]) -> bytes:
    """packed(), for the few level lists there are."""
    return packed(levels)


def unpacked(blob: bytes) -> tuple[float, ...]:
    return struct.unpack(f"<{len(blob) // 8}d", blob)


def price_key(prices: np.ndarray | bytes) -> bytes:
    """A digest of float32 prices, as the model saw them (or their little-endian bytes)."""
    data = prices if isinstance(prices, bytes) else np.ascontiguousarray(prices, dtype="<f4").tobytes()
    return hashlib.blake2b(data, digest_size=16).digest()


def key_length(prices: np.ndarray) -> int:
    """How many prices make a window's keys: KEY_PRICES, or fewer for a model with a shorter window."""
    return min(KEY_PRICES, len(prices) - 1)


def head_key(prices: np.ndarray) -> bytes:
    """The day before the forecast day: the key of the window's prices up to its last one."""
    return price_key(prices[:-1][-key_length(prices) :])


def tail_key(prices: np.ndarray) -> bytes:
    """The forecast day itself, as the next day's window will find it: the key of the window's newest prices."""
    return price_key(prices[-key_length(prices) :])


def chain_label(head: bytes) -> str:
    """The series a chain of matched windows without a name is scored under: named after its first window."""
    return "window-" + head.hex()[:12]


@dataclass(slots=True)
class ForecastRecord:
    """One window's answer: who asked (series, date), which model, the prices it read, what it said."""

    id: str
    name: str  # the series the request named; "" when none (matched by its windows instead)
    as_of: str | None  # the ISO date of the window's last price, when known
    target: str | None  # the ISO date of the day forecast, when known
    model: str
    created: float  # when it was answered (unix seconds)
    prices: np.ndarray  # (T,) float32: the window the model read
    levels: tuple[float, ...]
    served: tuple[float, ...]  # the quantiles answered, one per level
    raw: tuple[float, ...]  # the same before adaptive scaling (equal to served when it is off)
    factors: dict[str, float] | None = None  # the adaptive scale used per central interval ("0.8": ...)

    head: bytes = b""  # the keys, worked out in the writer process (never on the request path) when not given
    tail: bytes = b""
    last: float = 0.0

    def __post_init__(self) -> None:
        if not self.head:
            self.head, self.tail, self.last = head_key(self.prices), tail_key(self.prices), float(self.prices[-1])


def checked_name(name: object, where: str) -> str:
    """A series name: text of 1-200 characters without control characters; a ValueError says what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where} must be a non-empty text, got {name!r}")
    if len(name) > MAX_NAME:
        raise ValueError(f"{where} has {len(name)} characters; at most {MAX_NAME}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"{where} holds a control character; use printable text")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in name):  # JSON's "\ud800" escapes decode to text no store can keep
        raise ValueError(f"{where} holds an unpaired surrogate (an escape such as \\ud800); send valid Unicode text")
    return name


def checked_price(value: object, where: str) -> float:
    """A realised price as the model would read it (float32): positive and finite, else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where} is {value!r}; a price must be a number")
    price = float(np.float32(value)) if math.isfinite(value) and abs(value) < 3.4e38 else math.inf
    if not 0 < price < math.inf:
        raise ValueError(f"{where} is {value!r}; a price must be a positive finite number (below 3.4e38)")
    return price


Row = tuple[Any, ...]  # a ForecastRecord as the writer process is sent it: plain values, the prices as float32 bytes


def as_row(record: ForecastRecord) -> Row:
    """A record in the form the pipe to the writer carries: plain values, cheap to frame (service.ledger.wire)."""
    prices = np.ascontiguousarray(record.prices, dtype="<f4").tobytes()
    fields = (record.id, record.name, record.as_of, record.target, record.model, record.created)
    return (*fields, prices, record.levels, record.served, record.raw, record.factors)  # ForecastRecord's order


def as_record(row: Row) -> ForecastRecord:
    """A record from the pipe's form, its keys hashed straight from the price bytes."""
    id_, name, as_of, target, model, created, prices, levels, served, raw, factors = row
    window = np.frombuffer(prices, dtype="<f4")
    k = 4 * key_length(window)
    head, tail = price_key(prices[-k - 4 : -4]), price_key(prices[-k:])
    fields = (id_, name, as_of, target, model, created, window, levels, served, raw, factors)
    return ForecastRecord(*fields, head, tail, float(window[-1]))


@dataclass(slots=True)
class Answers:
    """One request's answered windows as the request path hands them over: its arrays as they are, expanded into
    rows by the recorder's thread, in bulk, and not on the request path."""

    ids: list[str]
    names: list[str]  # "" where none was named
    as_of: list[str | None]
    target: list[str | None]
    model: str
    created: float
    prices: np.ndarray  # (n, T) float32: the windows' prices
    levels: tuple[float, ...]
    served: np.ndarray  # (n, Q): the quantiles answered
    raw: np.ndarray | None  # (n, Q) before adaptive scaling; None: as served
    factors: list[dict[str, float]] | None

    def __len__(self) -> int:
        return len(self.ids)

    def head(self, count: int) -> Answers:
        """The first `count` windows only."""
        raw = None if self.raw is None else self.raw[:count]
        factors = None if self.factors is None else self.factors[:count]
        return Answers(
            self.ids[:count],
            self.names[:count],
            self.as_of[:count],
            self.target[:count],
            self.model,
            self.created,
            self.prices[:count],
            self.levels,
            self.served[:count],
            raw,
            factors,
        )

    def rows(self) -> list[Row]:
        """as_row's form, one row per window."""
        prices = np.ascontiguousarray(self.prices, dtype="<f4")
        served = [tuple(row) for row in self.served.tolist()]
        raw = served if self.raw is None else [tuple(row) for row in self.raw.tolist()]
        model, created, levels, factors = self.model, self.created, self.levels, self.factors
        return [
            (
                self.ids[i],
                self.names[i],
                self.as_of[i],
                self.target[i],
                model,
                created,
                prices[i].tobytes(),
                levels,
                served[i],
                raw[i],
                factors[i] if factors else None,
            )
            for i in range(len(self.ids))
        ]
