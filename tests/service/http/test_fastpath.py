"""The /predict fast path answers exactly as FastAPI's route does: bodies, status codes, errors, metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings

WINDOW = (1400 * np.exp(np.cumsum(np.random.default_rng(5).normal(0, 0.01, 60)))).round(2).tolist()
BODIES = [
    b'{"window": %s}' % str(WINDOW).encode(),
    b'{"windows": [%s, %s]}' % (str(WINDOW).encode(), str(WINDOW[::-1]).encode()),
    b'{"window": %s, "dates": %s}'
    % (str(WINDOW).encode(), str([f"2024-03-{d:02d}" for d in range(1, 31)] * 2).replace("'", '"').encode()),
    b'{"window": [1, 2, 3]}',
    b'{"window": %s}' % str([*WINDOW[:-1], -5.0]).encode(),
    b'{"windw": [1]}',
    b"{not json",
    b'{"window": "prices"}',
    b"[]",
    b"",
]


@pytest.fixture(scope="module")
def clients(model_pair: tuple[Path, str, str]) -> Iterator[dict[bool, TestClient]]:
    def app(fast: bool) -> TestClient:
        return TestClient(
            create_app(Settings(model_dir=model_pair[0], reload_seconds=0, fast_path=fast, _env_file=None))
        )

    with app(True) as fast, app(False) as routed:
        yield {True: fast, False: routed}


def without_ids(answer: dict) -> dict:
    """An answer but for its forecast ids, which are new for every answer (each checked: 32 hex digits)."""
    ids = [answer.pop("forecast_id")] if "forecast_id" in answer else answer.pop("forecast_ids", [])
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    return answer


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_same_answer_either_way(clients: dict[bool, TestClient], body: bytes) -> None:
    answers = [c.post("/predict", content=body, headers={"content-type": "application/json"}) for c in clients.values()]
    fast, routed = answers
    assert fast.status_code == routed.status_code and without_ids(fast.json()) == without_ids(routed.json())
    assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"
    assert fast.headers["x-request-id"] and fast.status_code < 500


def test_metrics_and_failures_are_labelled_alike(clients: dict[bool, TestClient]) -> None:
    for client in clients.values():
        client.post("/predict", json={"window": [1.0, 2.0]})
        client.post("/predict", json={"window": WINDOW})
    texts = [c.get("/metrics").text for c in clients.values()]
    for text in texts:
        assert 'forecast_http_requests_total{method="POST",route="/predict",status="200"}' in text
        assert 'forecast_failures_total{reason="invalid_input"}' in text


def test_the_route_is_still_documented(clients: dict[bool, TestClient]) -> None:
    schema = clients[True].get("/openapi.json").json()
    assert "post" in schema["paths"]["/predict"]
