"""What the ledger keeps of answered forecasts: a request's answers as they are handed over, one stored forecast, and
the keys that find a series' next day."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import struct
from dataclasses import dataclass

import numpy as np

# A day of a series is known by the prices before it: the last 59 (a 60-price window's all but its oldest). Two
# windows of one series on consecutive days share them: the first day's last 59, the next day's 59 before its last.
KEY_PRICES = 59
KEY_BYTES = 16  # a key's digest: blake2b of the prices' float32 bytes, 128 bits
MAX_NAME = 200  # characters of a series name


def packed(values: tuple[float, ...] | list[float]) -> bytes:
    """Quantiles or levels as the store keeps them: little-endian float64, exact and quick both ways."""
    return struct.pack(f"<{len(values)}d", *values)


@functools.lru_cache(maxsize=64)
def packed_levels(levels: tuple[float, ...]) -> bytes:
    """packed(), for the few level lists there are."""
    return packed(levels)


def unpacked(blob: bytes | bytearray) -> tuple[float, ...]:
    return struct.unpack(f"<{len(blob) // 8}d", blob)


def price_key(prices: np.ndarray | bytes | bytearray | memoryview) -> bytes:
    """A digest of float32 prices, as the model saw them (or their little-endian bytes)."""
    data = prices if not isinstance(prices, np.ndarray) else np.ascontiguousarray(prices, dtype="<f4").tobytes()
    return hashlib.blake2b(data, digest_size=KEY_BYTES).digest()


def key_length(length: int) -> int:
    """How many prices make the keys of a window of `length`: KEY_PRICES, or fewer for a model with a shorter one."""
    return min(KEY_PRICES, length - 1)


def head_key(prices: np.ndarray) -> bytes:
    """The day before the forecast day: the key of the window's prices up to its last one."""
    return price_key(prices[:-1][-key_length(len(prices)) :])


def tail_key(prices: np.ndarray) -> bytes:
    """The forecast day itself, as the next day's window will find it: the key of the window's newest prices."""
    return price_key(prices[-key_length(len(prices)) :])


def chain_label(head: bytes) -> str:
    """The series a chain of matched windows without a name is scored under: named after its first window."""
    return "window-" + head.hex()[:12]


@dataclass(slots=True)
class Row:
    """One forecast as the store keeps it and the matching sees it: stored already, or new in this write (then
    the fields after `scored` are filled too, and `chain` once it is matched)."""

    id: str
    name: str  # the series the request named; "" when none (matched by its windows instead)
    chain: str  # the series it is scored under: its name, else its chain of matched windows
    model: str
    levels: bytes | bytearray  # float64, as stored
    served: bytes | bytearray  # the quantiles answered, float64
    last: float  # the window's last price
    outcome: float | None  # the realised price of the day forecast, once known
    head: bytes
    tail: bytes
    source: str | None = None  # where the outcome came from: "window" (the next day's) or "posted"
    new: bool = False
    scored: float | None = None  # when this write scored it
    as_of: str | None = None  # the ISO date of the window's last price, when known
    target: str | None = None  # the ISO date of the day forecast, when known
    created: float = 0.0  # when it was answered (unix seconds)
    prices: bytes | bytearray = b""  # the window the model read, float32
    raw: bytes | bytearray | None = None  # the quantiles before adaptive scaling; None: as served
    factors: str | None = None  # the adaptive scale used per central interval, as JSON ({"0.8": ...})
    orphan: bool = False  # recorded before the window it follows (or first of its series): found by its head


@dataclass(slots=True)
class Answers:
    """One request's answered windows (or several requests' of one model and length, joined) as the request path
    hands them over: its arrays as they are, made into rows in bulk by the writer process, not on the request path."""

    ids: list[str]
    names: list[str]  # "" where none was named
    as_of: list[str | None]
    target: list[str | None]
    model: str
    created: list[float]
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
        lists = (self.ids[:count], self.names[:count], self.as_of[:count], self.target[:count])
        return Answers(
            *lists,
            self.model,
            self.created[:count],
            self.prices[:count],
            self.levels,
            self.served[:count],
            raw,
            factors,
        )

    def rows(self) -> list[Row]:
        """One new row per window, its keys hashed from its float32 bytes (the loop the writer runs for every
        forecast: locals, no calls it can do without)."""
        length = self.prices.shape[1]
        prices = bytearray(np.ascontiguousarray(self.prices, dtype="<f4"))  # bound as bytearray: see matching
        served = bytearray(np.ascontiguousarray(self.served, dtype="<f8"))
        raw = None if self.raw is None else bytearray(np.ascontiguousarray(self.raw, dtype="<f8"))
        levels = bytearray(packed_levels(self.levels))
        q, k, stride = 8 * len(self.levels), 4 * key_length(length), 4 * length  # bytes of quantiles, keys, window
        model, view, blake, rows = self.model, memoryview(prices), hashlib.blake2b, []
        lasts = self.prices[:, -1].tolist()
        fields = zip(self.ids, self.names, self.as_of, self.target, self.created, lasts, strict=True)
        for i, (id_, name, as_of, target, created, last) in enumerate(fields):
            end, at = stride * (i + 1), q * i
            head = blake(view[end - k - 4 : end - 4], digest_size=KEY_BYTES).digest()  # price_key, inlined
            tail = blake(view[end - k : end], digest_size=KEY_BYTES).digest()
            own = None if raw is None else raw[at : at + q]
            row = Row(
                id_,
                name,
                "",
                model,
                levels,
                served[at : at + q],
                last,
                None,
                head,
                tail,
                None,
                True,
                None,
                as_of,
                target,
                created,
                prices[end - stride : end],
                own,
            )
            rows.append(row)
        if self.factors is not None:
            for row, factors in zip(rows, self.factors, strict=True):
                row.factors = json.dumps(factors)
        return rows


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
