"""The HTTP API in-process (TestClient) over a real registry with real tiny models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings


def make_client(registry: Path, **overrides: object) -> TestClient:
    settings = Settings(model_dir=registry, reload_seconds=0, intra_op_threads=1, _env_file=None, **overrides)
    return TestClient(create_app(settings))


@pytest.fixture
def client(model_pair: tuple[Path, str, str]) -> Iterator[TestClient]:
    with make_client(model_pair[0], admin_token="s3cret", max_batch=64, max_body_bytes=200_000) as c:
        yield c


def windows(n: int, seed: int = 0) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return (1400 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 60)), axis=1))).round(2).tolist()


def offline(registry: Path, version: str, x: list[list[float]]) -> np.ndarray:
    session = ort.InferenceSession(str(registry / version / "model.onnx"))
    return session.run(None, {"window": np.array(x, dtype=np.float32)})[0]


def offline_quantiles(registry: Path, version: str, x: list[list[float]]) -> np.ndarray:
    session = ort.InferenceSession(str(registry / version / "model.onnx"))
    return session.run(None, {"window": np.array(x, dtype=np.float32)})[1]


def test_single_and_batch_forecasts_match_offline_onnxruntime(
    client: TestClient, model_pair: tuple[Path, str, str]
) -> None:
    registry, _, version = model_pair
    x = windows(5)
    expected = offline(registry, version, x)
    single = [client.post("/predict", json={"window": w}).json() for w in x]
    assert all(s["model_version"] == version for s in single)
    np.testing.assert_allclose([s["forecast"] for s in single], expected, rtol=1e-6)
    batch = client.post("/predict", json={"windows": x}).json()
    assert batch["model_version"] == version
    np.testing.assert_allclose(batch["forecasts"], [s["forecast"] for s in single], rtol=1e-6)
    reordered = client.post("/predict", json={"windows": x[::-1]}).json()["forecasts"]
    np.testing.assert_allclose(reordered, batch["forecasts"][::-1], rtol=1e-6)
    quantiles = offline_quantiles(registry, version, x)
    for i, answer in enumerate(single):
        np.testing.assert_allclose(list(answer["quantiles"].values()), quantiles[i], rtol=1e-6)
        assert answer["interval"] == {
            "level": 0.8,
            "lower": answer["quantiles"]["0.1"],
            "upper": answer["quantiles"]["0.9"],
        }
        assert batch["quantiles"][i] == answer["quantiles"] and batch["intervals"][i] == answer["interval"]


def test_dates_add_the_next_business_day(client: TestClient) -> None:
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-03-31"))
    weekdays = [str(d) for d in days if d.astype("datetime64[D]").item().weekday() < 5][:60]
    assert weekdays[-1] == "2024-03-22"  # a Friday
    answer = client.post("/predict", json={"window": windows(1)[0], "dates": weekdays}).json()
    assert answer["forecast_date"] == "2024-03-25"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"window": [100.0] * 59}, 422, "'window' has 59 prices; this model expects exactly 60"),
        ({"window": [100.0] * 59 + [-1.0]}, 422, "window[59] is -1.0"),
        ({"window": [100.0] * 30 + [0] + [100.0] * 29}, 422, "window[30] is 0.0"),
        ({"windows": [[100.0] * 60] * 65}, 422, "'windows' holds 65 windows; send 1 to 64"),
        ({"window": [100.0] * 60, "windows": [[100.0] * 60]}, 422, "send exactly one of"),
        ({"window": ["a"] * 60}, 422, "window[0]: Input should be a valid number"),
        ({"window": [100.0] * 60, "colour": "red"}, 422, "colour: Extra inputs are not permitted"),
        ({"window": None}, 422, "send exactly one of"),
    ],
)
def test_bad_input_gets_a_json_error_naming_the_problem(
    client: TestClient, body: dict, status: int, message: str
) -> None:
    response = client.post("/predict", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert client.get("/health/live").status_code == 200


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


def test_health_and_model_card(client: TestClient, model_pair: tuple[Path, str, str]) -> None:
    _, _, version = model_pair
    assert client.get("/health/live").json() == {"status": "alive"}
    assert client.get("/health/ready").json() == {"status": "ready", "model_version": version}
    card = client.get("/model").json()
    assert card["version"] == version and card["window"] == 60
    assert card["execution_providers"] == ["CPUExecutionProvider"]
    assert card["requested_providers"] == ["CPUExecutionProvider"]
    assert card["normalization"]["kind"] == "vol" and card["calibration"]["factors"]
    assert {"model", "naive", "mae_ratio"} <= set(card["metrics"]["test"])
    assert card["created"] and card["features"] == ["close"]
    assert card["quantiles"] == [0.025, 0.1, 0.5, 0.9, 0.975] and set(card["interval_coverage"]) == {"80", "95"}


def test_metrics_report_requests_batches_and_model(client: TestClient, model_pair: tuple[Path, str, str]) -> None:
    client.post("/predict", json={"windows": windows(3)})
    client.post("/predict", json={"window": [1.0]})
    text = client.get("/metrics").text
    assert 'forecast_http_requests_total{method="POST",route="/predict",status="200"} 1.0' in text
    assert 'forecast_failures_total{reason="invalid_input"} 1.0' in text
    assert "forecast_batch_size_windows_sum 3.0" in text
    assert f'forecast_model_info{{version="{model_pair[2]}"}} 1.0' in text
    assert 'forecast_execution_provider_info{provider="CPUExecutionProvider"' in text
    for name in (
        "forecast_request_duration_seconds_bucket",
        "forecast_queue_wait_seconds_bucket",
        "forecast_inference_duration_seconds_bucket",
        "forecast_pending_windows",
        "forecast_model_load_seconds",
        "forecast_model_reloads_total",
    ):
        assert name in text


def test_admin_reload_needs_the_token(client: TestClient, model_pair: tuple[Path, str, str]) -> None:
    assert client.post("/admin/reload").status_code == 401
    wrong = client.post("/admin/reload", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    ok = client.post("/admin/reload", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.json()["model_version"] == model_pair[2]


def test_admin_is_off_without_a_token(model_pair: tuple[Path, str, str]) -> None:
    with make_client(model_pair[0]) as c:
        assert c.post("/admin/reload", headers={"Authorization": "Bearer x"}).status_code == 404


def test_empty_registry_is_not_ready_until_a_model_appears(tmp_path: Path, model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    with make_client(tmp_path, admin_token="t") as c:
        ready = c.get("/health/ready")
        assert ready.status_code == 503 and "no model yet" in ready.json()["error"]
        assert c.post("/predict", json={"window": [1.0] * 60}).status_code == 503
        assert c.get("/health/live").status_code == 200
        import shutil

        shutil.copytree(registry / version, tmp_path / version)
        (tmp_path / "CURRENT").write_text(version)
        c.post("/admin/reload", headers={"Authorization": "Bearer t"})
        assert c.get("/health/ready").status_code == 200


def test_refused_reload_keeps_the_old_model(registry_copy: tuple[Path, str, str]) -> None:
    registry, first, second = registry_copy
    with make_client(registry, admin_token="t") as c:
        (registry / first / "model.onnx").write_bytes(b"garbage")
        (registry / "CURRENT").write_text(first)
        refused = c.post("/admin/reload", headers={"Authorization": "Bearer t"})
        assert refused.status_code == 409
        assert f"model '{first}' refused: onnxruntime cannot load model.onnx" in refused.json()["error"]
        assert f"still serving {second}" in refused.json()["error"]
        answer = c.post("/predict", json={"window": windows(1)[0]}).json()
        assert answer["model_version"] == second
        assert 'forecast_model_reloads_total{result="failure"} 1.0' in c.get("/metrics").text


def test_openapi_documents_predict_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    predict = schema["paths"]["/predict"]["post"]
    assert "422" in predict["responses"] and "503" in predict["responses"]
    request_schema = schema["components"]["schemas"]["PredictRequest"]
    assert request_schema["examples"][0]["window"]
    assert json.dumps(schema)  # serialisable as served


@pytest.fixture
def multi_client(multi_model: tuple[Path, str]) -> Iterator[TestClient]:
    with make_client(multi_model[0]) as c:
        yield c


def multi_features(seed: int = 0) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    walk = lambda scale: (scale * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))).round(4).tolist()  # noqa: E731
    return {
        "close": walk(1400),
        "volume": walk(9e8),
        "hl_range": (np.abs(rng.normal(0.01, 0.003, 60))).tolist(),
        "nasdaq_close": walk(4000),
    }


def test_multi_feature_model_with_horizon(multi_client: TestClient, multi_model: tuple[Path, str]) -> None:
    registry, version = multi_model
    features = multi_features()
    x = np.stack([features[n] for n in ("close", "volume", "hl_range", "nasdaq_close")], axis=-1)[None]
    session = ort.InferenceSession(str(registry / version / "model.onnx"))
    forecast, quantiles = session.run(None, {"window": x.astype(np.float32)})  # (1, 3), (1, 3, 5)
    one = multi_client.post("/predict", json={"features": features}).json()
    assert one["forecast"] == pytest.approx(float(forecast[0, 0]), rel=1e-6)
    three = multi_client.post(
        "/predict",
        json={
            "features": features,
            "horizon": 3,
            "dates": [f"2024-01-{d:02d}" for d in range(1, 32)] + [f"2024-02-{d:02d}" for d in range(1, 30)],
        },
    ).json()
    np.testing.assert_allclose(three["forecast"], forecast[0], rtol=1e-6)
    np.testing.assert_allclose(three["quantiles"]["0.9"], quantiles[0, :, 3], rtol=1e-6)
    assert three["interval"]["lower"] == three["quantiles"]["0.1"]
    assert three["forecast_dates"] == ["2024-03-01", "2024-03-04", "2024-03-05"]
    card = multi_client.get("/model").json()
    assert card["features"] == ["close", "volume", "hl_range", "nasdaq_close"] and card["horizon"] == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"window": [100.0] * 60}, "this model reads several features (close, volume, hl_range, nasdaq_close)"),
        ({"features": {"close": [1.0] * 60}}, "missing ['volume', 'hl_range', 'nasdaq_close']"),
        ({"features": {**multi_features(), "colour": [1.0] * 60}}, "unexpected ['colour']"),
        ({"features": multi_features(), "horizon": 4}, "'horizon' is 4; this model forecasts at most 3 day(s)"),
        ({"features": {**multi_features(), "volume": [-1.0] * 60}}, "features.volume[0] is -1.0"),
    ],
)
def test_multi_feature_errors_say_what_is_missing(multi_client: TestClient, body: dict, message: str) -> None:
    response = multi_client.post("/predict", json=body)
    assert response.status_code == 422
    assert message in response.json()["error"]


def test_univariate_model_refuses_a_longer_horizon(client: TestClient) -> None:
    response = client.post("/predict", json={"window": windows(1)[0], "horizon": 2})
    assert response.status_code == 422 and "at most 1 day(s)" in response.json()["error"]
    assert client.post("/predict", json={"window": windows(1)[0], "horizon": 1}).json()["forecast"][0] > 0


def test_a_model_trained_before_vol_normalisation_still_serves_unchanged() -> None:
    registry = Path(__file__).resolve().parents[1] / "data" / "legacy_registry"
    version = (registry / "CURRENT").read_text().strip()
    card = json.loads((registry / version / "model.json").read_text())
    assert card["normalization"]["kind"] == "window" and "calibration" not in card
    with make_client(registry) as legacy:
        for golden in card["golden"]:
            answer = legacy.post("/predict", json={"window": golden["window"]}).json()
            assert answer["model_version"] == version
            assert answer["forecast"] == pytest.approx(golden["forecast"], rel=1e-5)
            assert list(answer["quantiles"].values()) == pytest.approx(golden["quantiles"], rel=1e-5)


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
