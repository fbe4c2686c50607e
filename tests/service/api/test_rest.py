"""The HTTP API in-process (TestClient) over a real registry with real tiny models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import make_client, multi_features, windows


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
        ({"window": [100.0] * 59}, 422, "'window' has 59 prices; this model reads 60 to 300"),
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


def test_admin_reload_needs_the_token(client: TestClient, model_pair: tuple[Path, str, str]) -> None:
    assert client.post("/admin/reload").status_code == 401
    wrong = client.post("/admin/reload", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    ok = client.post("/admin/reload", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.json()["model_version"] == model_pair[2]


def test_admin_is_off_without_a_token(model_pair: tuple[Path, str, str]) -> None:
    with make_client(model_pair[0]) as c:
        assert c.post("/admin/reload", headers={"Authorization": "Bearer x"}).status_code == 404


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


def test_a_model_trained_before_vol_normalisation_still_serves_unchanged(tmp_path: Path) -> None:
    registry = Path(__file__).resolve().parents[3] / "tests" / "data" / "legacy_registry"
    version = (registry / "CURRENT").read_text().strip()
    card = json.loads((registry / version / "model.json").read_text())
    assert card["normalization"]["kind"] == "window" and "calibration" not in card
    with make_client(registry, store=str(tmp_path / "forecasts.sqlite")) as legacy:
        for golden in card["golden"]:
            answer = legacy.post("/predict", json={"window": golden["window"]}).json()
            assert answer["model_version"] == version
            assert answer["forecast"] == pytest.approx(golden["forecast"], rel=1e-5)
            assert list(answer["quantiles"].values()) == pytest.approx(golden["quantiles"], rel=1e-5)


def priced(lengths: list[int], seed: int = 5) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return [(1400 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))).round(2).tolist() for n in lengths]


def test_windows_of_any_length_in_range_each_get_their_own_answer(
    client: TestClient, model_pair: tuple[Path, str, str]
) -> None:
    registry, _, version = model_pair
    card = client.get("/model").json()
    shortest, longest = card["min_window"], card["max_window"]
    assert shortest == card["window"] == 60 and longest > shortest
    x = priced([shortest, longest, shortest + 1, 250, shortest, longest])
    batch = client.post("/predict", json={"windows": x}).json()
    for i, w in enumerate(x):
        single = client.post("/predict", json={"window": w}).json()
        assert batch["forecasts"][i] == pytest.approx(float(offline(registry, version, [w])[0]), rel=1e-6)
        assert batch["quantiles"][i] == pytest.approx(single["quantiles"], rel=1e-6)
    longer = client.post("/predict", json={"window": priced([longest + 1])[0]})
    assert longer.status_code == 422
    assert longer.json()["error"] == f"'window' has {longest + 1} prices; this model reads {shortest} to {longest}"


def test_a_fixed_window_registry_still_serves_and_says_its_one_length(tmp_path: Path) -> None:
    registry = Path(__file__).resolve().parents[3] / "tests" / "data" / "fixed_window"
    version = (registry / "CURRENT").read_text().strip()
    card = json.loads((registry / version / "model.json").read_text())
    assert "max_window" not in card and card["inputs"]["window"] == ["batch", 60]
    with make_client(registry, store=str(tmp_path / "forecasts.sqlite")) as fixed:
        shown = fixed.get("/model").json()
        assert (shown["min_window"], shown["max_window"]) == (60, 60)
        for golden in card["golden"]:
            answer = fixed.post("/predict", json={"window": golden["window"]}).json()
            assert answer["forecast"] == pytest.approx(golden["forecast"], rel=1e-5)
        longer = fixed.post("/predict", json={"windows": [windows(1)[0], priced([61])[0]]})
        assert longer.status_code == 422
        assert longer.json()["error"] == "windows[1] has 61 prices; this model reads exactly 60"
