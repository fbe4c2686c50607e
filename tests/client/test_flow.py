"""The client's logic without I/O, driven by hand: what each call asks for, retries within the budget, and typed
errors from the server's answers."""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from typing import Any

import numpy as np
import pytest

from client.errors import BadResponse, ForecastError, InvalidRequest, ServerError, Unavailable
from client.flow import Call, Reply, RetryPolicy, Wait, call, decode, predict, predict_many, retry_after

ANSWER = {"forecast": 1.0, "quantiles": {"0.1": 0.9, "0.9": 1.1}, "model_version": "v1"}


def reply(status: int, body: object, **headers: str) -> Reply:
    return Reply(status, {k.replace("_", "-"): v for k, v in headers.items()}, json.dumps(body).encode())


def drive(flow: Generator[Any, Any, Any], replies: list[Reply]) -> tuple[list[Any], Any]:
    """Runs a flow against canned replies; returns what it asked for (calls and waits) and its result."""
    asked, queue = [], list(replies)
    step = next(flow)
    try:
        while True:
            asked.append(step)
            step = flow.send(queue.pop(0) if isinstance(step, Call) else None)
    except StopIteration as done:
        return asked, done.value


def test_retry_after_reads_seconds_or_an_http_date_and_ignores_nonsense() -> None:
    assert retry_after(reply(503, {}, retry_after="3")) == 3.0
    assert retry_after(reply(503, {}, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0  # in the past
    assert retry_after(reply(503, {}, retry_after="soon")) is None and retry_after(reply(503, {})) is None


def test_errors_are_typed_by_status_with_the_servers_message_and_code() -> None:
    for status, kind in ((422, InvalidRequest), (503, Unavailable), (504, Unavailable), (500, ServerError)):
        with pytest.raises(kind) as raised:
            decode(reply(status, {"error": "window[0] is -4.0", "code": "invalid_input"}))
        assert (str(raised.value), raised.value.code, raised.value.status) == (
            "window[0] is -4.0",
            "invalid_input",
            status,
        )
    with pytest.raises(BadResponse, match="not JSON"):
        decode(Reply(200, {}, b"<html>"))


def test_a_503_is_retried_after_its_retry_after_until_the_budget_is_spent() -> None:
    busy = reply(503, {"error": "busy", "code": "overloaded"}, retry_after="2")
    asked, result = drive(call(Call("GET", "/model"), RetryPolicy(max_wait=10)), [busy, busy, reply(200, {"a": 1})])
    assert [type(a).__name__ for a in asked] == ["Call", "Wait", "Call", "Wait", "Call"] and result == {"a": 1}
    assert [a.seconds for a in asked if isinstance(a, Wait)] == [2.0, 2.0]
    with pytest.raises(Unavailable):
        drive(call(Call("GET", "/model"), RetryPolicy(max_wait=3)), [busy, busy, busy])


def test_many_windows_go_in_chunks_of_the_servers_max_batch_in_order() -> None:
    windows = [[100.0 + i] * 3 for i in range(5)]
    chunk = {"forecasts": [1.0, 2.0], "model_version": "v1"}
    replies = [reply(200, {"limits": {"max_batch": 2}}), reply(200, chunk), reply(200, chunk)]
    replies.append(reply(200, {"forecasts": [3.0], "model_version": "v1"}))
    asked, found = drive(predict_many(windows, RetryPolicy(), {}), replies)
    bodies = [a.body["windows"] for a in asked if a.body]
    assert [len(b) for b in bodies] == [2, 2, 1] and bodies[2] == [[104.0] * 3]
    assert [f.forecast for f in found] == [1.0, 2.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ([100.0] * 59 + [float("inf")], "prices[59] is inf; prices must be positive finite numbers"),
        ([100.0, float("nan")] + [100.0] * 58, "prices[1] is nan; prices must be positive finite"),
        ([100.0] * 3 + ["101"] + [100.0] * 56, "prices[3] is '101' (str); prices must be positive finite"),
        ([None] + [100.0] * 59, "prices[0] is None (NoneType); prices must be positive finite"),
        ([True] + [100.0] * 59, "prices[0] is True (bool)"),
        ([-1.0] + [100.0] * 59, "prices[0] is -1.0; prices must be positive finite"),
        ([1e39] + [100.0] * 59, "prices[0] is 1e+39; prices must be positive finite numbers (below 3.4e38)"),
        ([1e-300] + [100.0] * 59, "prices[0] is 1e-300, which float32 (what the model reads) rounds to 0"),
        ("100,101", "prices must be a sequence of prices, not str"),
    ],
)
def test_a_bad_price_is_an_invalid_request_before_anything_is_sent(window: object, message: str) -> None:
    flow = predict(window, None, RetryPolicy())  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match=re.escape(message)) as raised:
        next(flow)  # the first step would be the HTTP call
    assert raised.value.code == "invalid_input" and isinstance(raised.value, ForecastError)


def test_numpy_arrays_and_scalars_are_prices() -> None:
    flow = predict(
        np.linspace(100, 101, 60, dtype=np.float32), None, RetryPolicy(), limits={"max_window": 1000, "max_batch": 64}
    )
    first = next(flow)
    assert isinstance(first, Call) and len(first.body["window"]) == 60


def test_the_newest_prices_up_to_the_models_longest_window_are_posted() -> None:
    card = {"window": 60, "max_window": 250, "limits": {"max_batch": 64}}
    asked, found = drive(predict(list(range(1, 401)), None, RetryPolicy()), [reply(200, card), reply(200, ANSWER)])
    assert [(a.method, a.path) for a in asked] == [("GET", "/model"), ("POST", "/predict")]
    assert asked[1].body["window"] == list(range(151, 401)) and found.forecast == 1.0
    limits = {"max_window": 60, "max_batch": 64}  # asked once, then kept: a fixed-window model
    asked, _ = drive(
        predict([100.0] * 80, [f"d{i}" for i in range(80)], RetryPolicy(), limits=limits), [reply(200, ANSWER)]
    )
    assert len(asked) == 1 and len(asked[0].body["window"]) == 60 and asked[0].body["dates"][0] == "d20"


def test_a_bad_price_in_any_window_of_many_is_named_by_both_indices() -> None:
    windows = [[100.0] * 60, [100.0] * 10 + [0.0] + [100.0] * 49]
    with pytest.raises(InvalidRequest, match=re.escape("windows[1][10] is 0.0")):
        next(predict_many(windows, RetryPolicy(), {}))
