"""The ASGI layers around every route: HEAD as GET, request ids, body limits, route labels."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.live_server import running_service, wait_for
from tests.service.http.test_logs import access_lines


def test_head_answers_as_get_does_without_the_body(registry_copy: tuple[Path, str, str]) -> None:
    # RFC 9110: every general-purpose server supports GET and HEAD; uptime checkers and `curl -I` send HEAD.
    registry, _, _ = registry_copy
    with running_service(registry) as (base, proc):
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        for path in ("/health/live", "/health/ready", "/model", "/v2", "/v2/models/lstm-forecast/ready", "/"):
            got, head = httpx.get(f"{base}{path}"), httpx.head(f"{base}{path}")
            assert (head.status_code, got.status_code, head.content) == (200, 200, b""), path
            assert head.headers["content-type"] == got.headers["content-type"], path
        assert httpx.head(f"{base}/no-such-page").status_code == 404
        assert httpx.head(f"{base}/predict").status_code == 405  # POST only
        samples = httpx.get(f"{base}/metrics").text
        assert 'forecast_http_requests_total{method="HEAD",route="/health/ready",status="200"} 1.0' in samples
        assert wait_for(
            lambda: any(x["method"] == "HEAD" and x["status"] == 200 for x in access_lines(proc)), timeout=5
        )


@pytest.mark.parametrize(
    ("raw", "headers", "status", "code"),
    [
        (b'{"window": [1, 2', {"content-type": "application/json"}, 400, "malformed_json"),
        (
            b'{"window": [NaN' + b", 1" * 59 + b"]}",
            {"content-type": "application/json"},
            422,
            "invalid_input",
        ),
        (
            b'{"window": [1e309' + b", 1" * 59 + b"]}",
            {"content-type": "application/json"},
            422,
            "invalid_input",
        ),
        (b"\xff\xfe{}", {"content-type": "application/json"}, 400, "malformed_json"),
        (b"[" * 10_000 + b"]" * 10_000, {"content-type": "application/json"}, 400, "malformed_json"),
        (b'{"window": [1]}', {"content-type": "text/plain"}, 415, "unsupported_media_type"),
        (b"x" * 200_001, {"content-type": "application/json"}, 413, "too_large"),
    ],
)
def test_raw_bodies_never_get_a_500(client: TestClient, raw: bytes, headers: dict, status: int, code: str) -> None:
    response = client.post("/predict", content=raw, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert "Traceback" not in response.text


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/health/live", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32


def test_413_and_415_are_rendered_like_every_other_error(client: TestClient) -> None:
    answers = {
        400: client.post("/predict", content=b'{"window": [1', headers={"content-type": "application/json"}),
        413: client.post("/predict", content=b"x" * 200_001, headers={"content-type": "application/json"}),
        415: client.post("/predict", content=b'{"window": [1]}', headers={"content-type": "text/plain"}),
    }
    for status, answer in answers.items():
        assert answer.status_code == status and answer.headers["content-type"] == "application/json"
        # the app's JSONResponse rendering: compact separators, UTF-8, the one {"error", "code"} shape
        assert answer.content == json.dumps(answer.json(), separators=(",", ":"), ensure_ascii=False).encode()
        assert list(answer.json()) == ["error", "code"]


def test_every_served_path_is_counted_under_its_route(client: TestClient) -> None:
    client.get("/docs")
    client.get("/redoc")
    client.get("/openapi.json")
    client.get("/static/app.js")
    client.post("/predict", content=b"x" * 200_001, headers={"content-type": "application/json"})
    client.post("/predict", content=b'{"window": [1]}', headers={"content-type": "text/plain"})
    client.get("/no-such-page")
    text = client.get("/metrics").text
    for route, method, status in [
        ("/docs", "GET", 200),
        ("/redoc", "GET", 200),
        ("/openapi.json", "GET", 200),
        ("/static/{path}", "GET", 200),
        ("/predict", "POST", 413),
        ("/predict", "POST", 415),
        ("unmatched", "GET", 404),
    ]:
        assert f'forecast_http_requests_total{{method="{method}",route="{route}",status="{status}"}} 1.0' in text, route
