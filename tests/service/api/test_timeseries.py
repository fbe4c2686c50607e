"""KServe's time-series forecast API (field names from KServe's own types) over the same model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings


@pytest.fixture(scope="module")
def client(model_pair: tuple[Path, str, str]) -> Iterator[TestClient]:
    settings = Settings(model_dir=model_pair[0], reload_seconds=0, intra_op_threads=1, _env_file=None)
    with TestClient(create_app(settings)) as c:
        yield c


def series(n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return (1400 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))).round(2).tolist()


def request(*inputs: dict, horizon: int = 1, quantiles: list[float] | None = None) -> dict:
    options: dict = {"horizon": horizon}
    if quantiles is not None:
        options["quantiles"] = quantiles
    return {"model": "lstm-forecast", "inputs": list(inputs), "options": options}


def univariate(name: str, values: list[float], start: str | None = "2024-01-01T00:00:00") -> dict:
    return {
        "type": "univariate_time_series",
        "name": name,
        "series": values,
        "frequency": "D",
        "start_timestamp": start,
    }


def test_forecast_matches_predict(client: TestClient) -> None:
    a, b = series(80, 1), series(60, 2)
    body = request(univariate("spx", a), univariate("other", b), quantiles=[0.1, 0.9]).copy()
    answer = client.post("/v1/timeseries/forecast", json=body).json()
    assert answer["status"] == "completed" and answer["model"] == "lstm-forecast"
    assert set(answer) >= {"id", "created_at", "outputs", "usage"}
    first = answer["outputs"][0]
    assert first["type"] == "time_series_forecast" and first["status"] == "completed"
    content = first["content"][0]
    assert content["name"] == "spx" and content["type"] == "univariate_time_series"
    assert content["frequency"] == "D" and content["start_timestamp"] == "2024-03-21T00:00:00"  # + 80 days
    assert set(content["quantiles"]) == {"0.1", "0.9"}
    predicted = client.post("/predict", json={"windows": [a, b]}).json()  # all 80: the model reads 60 to 300
    assert content["mean_forecast"] == pytest.approx([predicted["forecasts"][0]], rel=1e-6)
    assert content["quantiles"]["0.9"] == pytest.approx([predicted["quantiles"][0]["0.9"]], rel=1e-6)
    assert answer["outputs"][1]["content"][0]["mean_forecast"] == pytest.approx([predicted["forecasts"][1]], rel=1e-6)


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (request(univariate("s", series(60, 1)), horizon=2), 400, "invalid_horizon"),
        (request(univariate("s", series(60, 1)), quantiles=[0.3]), 400, "invalid_quantile"),
        (request(univariate("s", series(30, 1))), 400, "invalid_series"),
        (
            request({**univariate("s", series(60, 1)), "type": "multivariate_time_series"}),
            400,
            "unsupported_time_series_type",
        ),
        (request(univariate("s", [1.0] * 59 + [-1.0])), 400, "invalid_series"),
        ({**request(univariate("s", series(60, 1))), "model": "nope"}, 404, "model_not_found"),
        ({"inputs": []}, 400, "invalid_request"),
    ],
)
def test_errors_use_kserve_error_shape(client: TestClient, body: dict, status: int, kind: str) -> None:
    response = client.post("/v1/timeseries/forecast", json=body)
    assert response.status_code == status
    assert response.json()["error"]["type"] == kind and response.json()["error"]["message"]


def test_more_series_than_max_batch_is_a_clear_400(model_pair: tuple[Path, str, str]) -> None:
    settings = Settings(model_dir=model_pair[0], reload_seconds=0, intra_op_threads=1, max_batch=4, _env_file=None)
    with TestClient(create_app(settings)) as small:
        body = request(*(univariate(f"s{i}", series(60, i)) for i in range(5)))
        response = small.post("/v1/timeseries/forecast", json=body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["type"] == "invalid_request"
        assert error["message"].startswith("5 series in one request; send 1 to 4 (FORECAST_MAX_BATCH)")
        assert small.post("/v1/timeseries/forecast", json={**body, "inputs": body["inputs"][:4]}).status_code == 200
        empty = small.post("/v1/timeseries/forecast", json={**body, "inputs": []})
        assert empty.status_code == 400 and empty.json()["error"]["type"] == "invalid_request"


def test_time_series_errors_are_labelled_in_the_failure_metric(client: TestClient) -> None:
    client.post("/v1/timeseries/forecast", json=request(univariate("s", series(60, 1)), horizon=2))
    client.post("/v1/timeseries/forecast", json={"inputs": []})
    text = client.get("/metrics").text
    assert 'forecast_failures_total{reason="invalid_horizon"}' in text
    assert 'forecast_failures_total{reason="invalid_request"}' in text
    assert 'reason="http_400"' not in text


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"", 'the body is empty; send a JSON object like {"model": "lstm-forecast"'),
        (b"   ", "the body is empty"),
        (b"{not json", "the body: Invalid JSON"),
    ],
)
def test_an_empty_or_broken_body_is_said_to_be_one(client: TestClient, body: bytes, said: str) -> None:
    answer = client.post("/v1/timeseries/forecast", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["message"].startswith(said)


def test_an_unknown_series_type_says_which_one_the_model_reads(client: TestClient) -> None:
    item = univariate("spx", series(60, 1)) | {"type": "UNIVARIATE_TIME_SERIES"}
    answer = client.post("/v1/timeseries/forecast", json=request(item)).json()["error"]
    assert answer["type"] == "unsupported_time_series_type"
    assert answer["message"] == (
        "series 'spx': type 'UNIVARIATE_TIME_SERIES' is not one this model reads; use 'univariate_time_series'"
    )


def test_a_long_series_is_read_up_to_the_models_longest_window(client: TestClient) -> None:
    long = series(400, 3)
    answer = client.post("/v1/timeseries/forecast", json=request(univariate("long", long))).json()
    longest = client.get("/model").json()["max_window"]
    predicted = client.post("/predict", json={"window": long[-longest:]}).json()
    assert answer["outputs"][0]["content"][0]["mean_forecast"] == pytest.approx([predicted["forecast"]], rel=1e-6)
