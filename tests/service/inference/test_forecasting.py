"""The one inference path: every route family gets the same 503, size limit and failure labels, in its own shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings

WINDOW = (1400 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, 60)))).round(2).tolist()


def oip_body(rows: int) -> dict:
    return {"inputs": [{"name": "window", "shape": [rows, 60], "datatype": "FP32", "data": WINDOW * rows}]}


def ts_body(rows: int) -> dict:
    inputs = [
        {"type": "univariate_time_series", "name": f"s{i}", "series": WINDOW, "frequency": "D"} for i in range(rows)
    ]
    return {"model": "lstm-forecast", "inputs": inputs, "options": {"horizon": 1}}


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[TestClient]:
    """A service over an empty registry: no model yet."""
    settings = Settings(model_dir=tmp_path, reload_seconds=0, intra_op_threads=1, _env_file=None)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def small_client(model_pair: tuple[Path, str, str]) -> Iterator[TestClient]:
    """A service that takes at most 4 windows per request."""
    settings = Settings(model_dir=model_pair[0], reload_seconds=0, intra_op_threads=1, max_batch=4, _env_file=None)
    with TestClient(create_app(settings)) as client:
        yield client


def failures(client: TestClient) -> dict[str, float]:
    lines = [x for x in client.get("/metrics").text.splitlines() if x.startswith("forecast_failures_total{")]
    return {line.split('"')[1]: float(line.split()[-1]) for line in lines}


def test_no_model_is_a_503_in_every_family_with_its_label(empty_client: TestClient) -> None:
    predict = empty_client.post("/predict", json={"window": WINDOW})
    assert predict.status_code == 503 and predict.json()["code"] == "not_ready"
    assert predict.headers["retry-after"] == "5" and predict.json()["error"].startswith("not ready: ")
    oip = empty_client.post("/v2/models/lstm-forecast/infer", json=oip_body(1))
    assert oip.status_code == 503 and oip.json()["error"].startswith("not ready: ")
    ts = empty_client.post("/v1/timeseries/forecast", json=ts_body(1))
    assert ts.status_code == 503 and ts.json()["error"]["type"] == "model_not_ready"
    assert ts.json()["error"]["code"] == "503"
    assert failures(empty_client) == {"not_ready": 2.0, "model_not_ready": 1.0}


def test_too_many_windows_is_refused_in_every_family(small_client: TestClient) -> None:
    before = failures(small_client)
    predict = small_client.post("/predict", json={"windows": [WINDOW] * 5})
    assert predict.status_code == 422 and "send 1 to 4" in predict.json()["error"]
    oip = small_client.post("/v2/models/lstm-forecast/infer", json=oip_body(5))
    assert oip.status_code == 400
    assert oip.json()["error"].startswith("5 windows in one request; send 1 to 4 (FORECAST_MAX_BATCH)")
    ts = small_client.post("/v1/timeseries/forecast", json=ts_body(5))
    assert ts.status_code == 400 and ts.json()["error"]["type"] == "invalid_request"
    after = failures(small_client)
    for label in ("invalid_input", "protocol_error", "invalid_request"):
        assert after.get(label, 0) - before.get(label, 0) == 1.0, label
    assert small_client.post("/v2/models/lstm-forecast/infer", json=oip_body(4)).status_code == 200
