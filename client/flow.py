"""The client's logic without I/O: each call is a generator that yields what to do (an HTTP call or a wait)
and receives the reply, so one implementation drives both the sync and the async client."""

from __future__ import annotations

import email.utils
import json
import numbers
import time
import urllib.parse
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from client.answers import Forecast, one_forecast
from client.errors import BadResponse, InvalidRequest, ServerError, Unavailable

DEFAULT_MAX_BATCH = 64  # when the server does not say (older servers' /model has no limits)
FLOAT32_LIMIT = 2.0**128 - 2.0**103  # float64 values float32 holds as finite: below this (the service's rule)
FLOAT32_TINY = 2.0**-150  # half float32's smallest subnormal: at or below it, float32 rounds a price to 0


@dataclass(frozen=True)
class Call:
    """One HTTP request to make."""

    method: str
    path: str
    body: dict | None = None


@dataclass(frozen=True)
class Wait:
    """Sleep this long before going on (a Retry-After)."""

    seconds: float


@dataclass(frozen=True)
class Reply:
    """What came back: status, headers (lower-case names) and the raw body."""

    status: int
    headers: dict[str, str]
    content: bytes


@dataclass(frozen=True)
class RetryPolicy:
    """503/504 are retried, honouring Retry-After, until `max_wait` seconds of waiting are spent."""

    max_wait: float = 30.0
    first_delay: float = 0.5  # when the server gives no Retry-After; doubled each time


T = TypeVar("T")
JSON = dict[str, Any]  # a decoded JSON object
Flow = Generator[Call | Wait, Reply | None, T]  # yields what to do, receives replies, returns a T


def retry_after(reply: Reply) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    value = reply.headers.get("retry-after")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def decode(reply: Reply) -> JSON:
    """The JSON object of a 2xx reply; typed errors with the server's message and code otherwise."""
    try:
        body = json.loads(reply.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        snippet = reply.content[:80].decode("utf-8", "replace")
        raise BadResponse(f"HTTP {reply.status} with a body that is not JSON: {snippet!r}", status=reply.status)
    if reply.status < 400:
        return body
    error = body.get("error")
    message = error if isinstance(error, str) else json.dumps(body)[:300]
    kind = Unavailable if reply.status in (503, 504) else InvalidRequest if reply.status < 500 else ServerError
    raise kind(message, str(body.get("code", "")), reply.status)


def call(request: Call, policy: RetryPolicy) -> Flow[JSON]:
    """Makes one call, retrying 503/504 within the policy's waiting budget; returns the decoded JSON."""
    waited, delay = 0.0, policy.first_delay
    while True:
        reply = yield request
        assert reply is not None
        budget = policy.max_wait - waited
        if reply.status not in (503, 504) or budget <= 0:
            return decode(reply)
        pause = min(retry_after(reply) or delay, budget)
        yield Wait(pause)
        waited, delay = waited + pause, delay * 2


def server_limits(policy: RetryPolicy, limits: dict[str, int]) -> Flow[dict[str, int]]:
    """The most windows the server takes in one request and the longest window its model reads (GET /model,
    asked once, then kept in `limits`)."""
    if "max_batch" not in limits:
        card = yield from call(Call("GET", "/model"), policy)
        found = card.get("limits")
        limits["max_batch"] = (
            int(found["max_batch"]) if isinstance(found, dict) and "max_batch" in found else DEFAULT_MAX_BATCH
        )
        longest = card.get("max_window", card.get("window"))
        limits["max_window"] = int(longest) if isinstance(longest, int) else 0
    return limits


def newest(prices: list[float], limits: dict[str, int]) -> list[float]:
    """The newest prices the model reads: all of them up to its max_window."""
    longest = limits.get("max_window") or len(prices)
    return prices[-longest:]


def checked_price(value: object, where: str) -> float:
    """A price the service will take (a number, finite and positive in float32), else InvalidRequest naming it."""
    rule = "prices must be positive finite numbers (below 3.4e38)"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy's scalars are Real too
        raise InvalidRequest(f"{where} is {value!r} ({type(value).__name__}); {rule}", "invalid_input")
    price = float(value)
    if 0 < price <= FLOAT32_TINY:
        raise InvalidRequest(
            f"{where} is {price!r}, which float32 (what the model reads) rounds to 0; {rule}", "invalid_input"
        )
    if not 0 < price < FLOAT32_LIMIT:
        raise InvalidRequest(f"{where} is {price!r}; {rule}", "invalid_input")
    return price


def checked_window(window: Iterable[object], name: str) -> list[float]:
    """Every price of a window checked before anything is sent; the first bad one named by its index."""
    if isinstance(window, str | bytes | dict) or not isinstance(window, Iterable):
        raise InvalidRequest(f"{name} must be a sequence of prices, not {type(window).__name__}", "invalid_input")
    return [checked_price(p, f"{name}[{i}]") for i, p in enumerate(window)]


def predict(
    window: Sequence[float],
    dates: Sequence[str] | None,
    policy: RetryPolicy,
    series: str | None = None,
    limits: dict[str, int] | None = None,
) -> Flow[Forecast]:
    """One window's Forecast from the newest max_window prices given (all of them when fewer); with `series`,
    the service records it under that name (to score it later)."""
    checked = checked_window(window, "prices")  # before anything is sent
    prices = newest(checked, (yield from server_limits(policy, {} if limits is None else limits)))
    body: JSON = {"window": prices}
    if dates is not None:
        body["dates"] = [str(d) for d in dates][-len(prices) :]
    if series is not None:
        body["series"] = series
    answer = yield from call(Call("POST", "/predict", body), policy)
    return one_forecast(answer)


def predict_many(
    windows: Sequence[Sequence[float]], policy: RetryPolicy, limits: dict[str, int]
) -> Flow[list[Forecast]]:
    """Forecasts for any number of windows (each its newest max_window prices), in order, sent in chunks of the
    server's max_batch (asked once, then kept in `limits`)."""
    given = [checked_window(w, f"windows[{i}]") for i, w in enumerate(windows)]  # before anything is sent
    limits = yield from server_limits(policy, limits)
    checked = [newest(w, limits) for w in given]
    size = limits["max_batch"]
    found: list[Forecast] = []
    for start in range(0, len(checked), size):
        chunk = checked[start : start + size]
        answer = yield from call(Call("POST", "/predict", {"windows": chunk}), policy)
        found += [one_forecast(answer, i) for i in range(len(chunk))]
    return found


def outcome(
    price: float,
    policy: RetryPolicy,
    forecast_id: str | None = None,
    series: str | None = None,
    date: str | None = None,
) -> Flow[JSON]:
    """Posts what happened: the realised price of one forecast (by its id, or by series and date)."""
    body: JSON = {"price": checked_price(price, "price")}
    body |= {"forecast_id": forecast_id} if forecast_id else {"series": series, "date": date}
    return (yield from call(Call("POST", "/outcomes", body), policy))


def calibration(policy: RetryPolicy, **filters: str | float | None) -> Flow[JSON]:
    """GET /calibration: how the served forecasts did, per series and model version (filters: series, model,
    days, forecast_id)."""
    query = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
    return (yield from call(Call("GET", "/calibration" + (f"?{query}" if query else "")), policy))


def model(policy: RetryPolicy) -> Flow[JSON]:
    """The live model's card."""
    return (yield from call(Call("GET", "/model"), policy))


def ready() -> Flow[bool]:
    """True when the service has a model loaded (GET /health/ready answers 200); no retries."""
    reply = yield Call("GET", "/health/ready")
    assert reply is not None
    return reply.status == 200
