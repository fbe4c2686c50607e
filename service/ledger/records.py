"""What the ledger keeps of one answered forecast, and the keys that find a series' next day."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

# A day of a series is known by the prices before it: the last 59 (a 60-price window's all but its oldest). Two
# windows of one series on consecutive days share them: the first day's last 59, the next day's 59 before its last.
KEY_PRICES = 59
MAX_NAME = 200  # characters of a series name


def packed(values: tuple[float, ...] | list[float]) -> bytes:
    """Quantiles or levels as the store keeps them: little-endian float64, exact and quick both ways."""
    return np.asarray(values, dtype="<f8").tobytes()


def unpacked(blob: bytes) -> tuple[float, ...]:
    return tuple(np.frombuffer(blob, dtype="<f8").tolist())


def price_key(prices: np.ndarray) -> bytes:
    """A digest of float32 prices, as the model saw them."""
    return hashlib.blake2b(np.ascontiguousarray(prices, dtype="<f4").tobytes(), digest_size=16).digest()


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


@dataclass(frozen=True)
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

    # The keys are worked out by the writer thread, not on the request path.
    @cached_property
    def head(self) -> bytes:
        return head_key(self.prices)

    @cached_property
    def tail(self) -> bytes:
        return tail_key(self.prices)

    @property
    def last(self) -> float:
        return float(self.prices[-1])


def checked_name(name: object, where: str) -> str:
    """A series name: text of 1-200 characters without control characters; a ValueError says what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where} must be a non-empty text, got {name!r}")
    if len(name) > MAX_NAME:
        raise ValueError(f"{where} has {len(name)} characters; at most {MAX_NAME}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"{where} holds a control character; use printable text")
    return name


def checked_price(value: object, where: str) -> float:
    """A realised price as the model would read it (float32): positive and finite, else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where} is {value!r}; a price must be a number")
    price = float(np.float32(value)) if math.isfinite(value) and abs(value) < 3.4e38 else math.inf
    if not 0 < price < math.inf:
        raise ValueError(f"{where} is {value!r}; a price must be a positive finite number (below 3.4e38)")
    return price
