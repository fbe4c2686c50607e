"""Hostile bodies against the real server: each gets its status and message, and the server lives on."""

from __future__ import annotations

import json

import httpx
import pytest

JSON = {"content-type": "application/json"}
GOOD = [round(1400 + i * 0.7, 2) for i in range(60)]


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


def prices_with(raw_value: str, at: int = 7) -> bytes:
    """A window whose value at `at` is a raw JSON token (NaN, 1e309, ...)."""
    values = [str(v) for v in GOOD]
    values[at] = raw_value
    return ('{"window": [' + ", ".join(values) + "]}").encode()


def nested(depth: int) -> bytes:
    return b'{"window": ' + b"[" * depth + b"]" * depth + b"}"


CASES = {
    "NaN literal": (prices_with("NaN"), JSON, 422, "window[7] is nan"),
    "Infinity literal": (prices_with("Infinity"), JSON, 422, "window[7] is inf"),
    "-Infinity literal": (prices_with("-Infinity"), JSON, 422, "window[7] is -inf"),
    "1e309": (prices_with("1e309"), JSON, 422, "window[7] is inf"),
    "3.5e38 (inf in float32)": (prices_with("3.5e38"), JSON, 422, "window[7] is 3.5e+38"),
    "string": (prices_with('"12.5"'), JSON, 422, "window[7]: Input should be a valid number"),
    "null": (prices_with("null"), JSON, 422, "window[7]: Input should be a valid number"),
    "nested list": (prices_with("[1.0]"), JSON, 422, "window[7]: Input should be a valid number"),
    "empty window": (body({"window": []}), JSON, 422, "'window' has 0 prices; this model reads 60 to 300"),
    "empty windows": (body({"windows": []}), JSON, 422, "'windows' holds 0 windows; send 1 to 1024"),
    "wrong length": (body({"window": GOOD[:59]}), JSON, 422, "'window' has 59 prices; this model reads 60 to 300"),
    "zero price": (prices_with("0"), JSON, 422, "window[7] is 0.0; values must be positive"),
    "negative price": (prices_with("-3.5"), JSON, 422, "window[7] is -3.5; values must be positive"),
    "window and windows": (body({"window": GOOD, "windows": [GOOD]}), JSON, 422, "send exactly one of"),
    "unknown field (rejected)": (
        body({"window": GOOD, "windw": GOOD}),
        JSON,
        422,
        "windw: Extra inputs are not permitted",
    ),
    "10 MB body": (b'{"window": [' + b"1.0, " * 2_000_000 + b"1.0]}", JSON, 413, "larger than"),
    "100,000 one-price windows": (body({"windows": [[1.0]] * 100_000}), JSON, 422, "'windows' holds 100000 windows"),
    "100,000 windows of 60 prices": (body({"windows": [GOOD] * 100_000}), JSON, 413, "larger than"),
    "10,000 levels of nesting": (nested(10_000), JSON, 400, "not valid JSON"),
    "invalid UTF-8": (b'{"window": [\xff\xfe]}', JSON, 400, "not valid JSON"),
    "wrong content type": (
        body({"window": GOOD}),
        {"content-type": "text/plain"},
        415,
        "Content-Type: application/json",
    ),
    "no content type": (body({"window": GOOD}), {}, 415, "Content-Type: application/json"),
    "empty body": (b"", JSON, 400, "not valid JSON"),
    "not an object": (b"[1, 2, 3]", JSON, 422, "request body: Input should be an object"),
    "truncated JSON": (b'{"window": [1, 2', JSON, 400, "not valid JSON"),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_body(live_server: str, name: str) -> None:
    raw, headers, status, message = CASES[name]
    response = httpx.post(f"{live_server}/predict", content=raw, headers=headers, timeout=30)
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    assert message in response.json()["error"], response.json()
    assert "Traceback" not in response.text
    assert httpx.get(f"{live_server}/health/live").status_code == 200


def test_good_request_still_answers_after_all_that(live_server: str) -> None:
    response = httpx.post(f"{live_server}/predict", json={"window": GOOD})
    assert response.status_code == 200 and response.json()["forecast"] > 0
