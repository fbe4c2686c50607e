"""The Open Inference Protocol v2 endpoints, driven by NVIDIA's own tritonclient against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.service.server import running_service


@pytest.fixture(scope="module")
def server(model_pair: tuple[Path, str, str]) -> Iterator[tuple[str, str]]:
    registry, _, version = model_pair
    with running_service(registry, FORECAST_RELOAD_SECONDS="0") as (base, _):
        yield base, version


def windows(n: int) -> np.ndarray:
    rng = np.random.default_rng(n)
    return (1400 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 60)), axis=1))).astype(np.float32)


def client(base: str) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(url=base.removeprefix("http://"))


@pytest.mark.parametrize("binary", [True, False])
def test_tritonclient_infer_equals_predict(server: tuple[str, str], binary: bool) -> None:
    base, version = server
    c = client(base)
    assert c.is_server_live() and c.is_server_ready() and c.is_model_ready("lstm-forecast")
    x = windows(5)
    inp = triton.InferInput("window", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary)
    outputs = [
        triton.InferRequestedOutput("forecast", binary_data=binary),
        triton.InferRequestedOutput("quantiles", binary_data=binary),
    ]
    result = c.infer("lstm-forecast", [inp], outputs=outputs, request_id="req-1")
    forecast, quantiles = result.as_numpy("forecast"), result.as_numpy("quantiles")
    assert forecast.shape == (5,) and quantiles.shape == (5, 5)
    response = result.get_response()
    assert response["model_name"] == "lstm-forecast" and response["model_version"] == version
    assert response["id"] == "req-1"
    predicted = httpx.post(f"{base}/predict", json={"windows": x.astype(np.float64).tolist()}).json()
    np.testing.assert_allclose(forecast, predicted["forecasts"], rtol=1e-6)
    np.testing.assert_allclose(quantiles[:, 1], [q["0.1"] for q in predicted["quantiles"]], rtol=1e-6)
    versioned = c.infer("lstm-forecast", [inp], model_version=version)
    np.testing.assert_allclose(versioned.as_numpy("forecast"), forecast)


def test_metadata_has_dynamic_batch_dims(server: tuple[str, str]) -> None:
    base, version = server
    meta = client(base).get_model_metadata("lstm-forecast")
    assert meta["name"] == "lstm-forecast" and meta["versions"] == [version] and meta["platform"] == "onnx"
    assert meta["inputs"] == [{"name": "window", "datatype": "FP32", "shape": [-1, 60]}]
    assert {"name": "quantiles", "datatype": "FP32", "shape": [-1, 5]} in meta["outputs"]
    server_meta = client(base).get_server_metadata()
    assert server_meta["name"] == "lstm-forecast" and "binary_tensor_data" in server_meta["extensions"]


def test_protocol_errors(server: tuple[str, str]) -> None:
    base, _ = server
    c = client(base)
    with pytest.raises(InferenceServerException, match="unknown model 'other'"):
        c.get_model_metadata("other")
    with pytest.raises(InferenceServerException, match="has no version 'v0'"):
        c.get_model_metadata("lstm-forecast", model_version="v0")
    bad = triton.InferInput("window", [1, 59], "FP32")
    bad.set_data_from_numpy(np.ones((1, 59), dtype=np.float32))
    with pytest.raises(InferenceServerException, match=r"shape \[1, 59\] must be \[batch, 60\]"):
        c.infer("lstm-forecast", [bad])
    negative = triton.InferInput("window", [1, 60], "FP32")
    negative.set_data_from_numpy(-np.ones((1, 60), dtype=np.float32), binary_data=False)
    with pytest.raises(InferenceServerException, match="values must be positive"):
        c.infer("lstm-forecast", [negative])
    raw = httpx.post(f"{base}/v2/models/lstm-forecast/infer", content=b"{not json")
    assert raw.status_code == 400 and raw.json()["error"].startswith("request is not valid JSON")


def test_oip_shares_the_batcher_metrics(server: tuple[str, str]) -> None:
    base, _ = server
    before = httpx.get(f"{base}/metrics").text
    inp = triton.InferInput("window", [3, 60], "FP32")
    inp.set_data_from_numpy(windows(3))
    client(base).infer("lstm-forecast", [inp])
    after = httpx.get(f"{base}/metrics").text

    def total(text: str) -> float:
        line = next(x for x in text.splitlines() if x.startswith("forecast_batch_size_windows_sum"))
        return float(line.split()[1])

    assert total(after) - total(before) == 3.0
    assert 'route="/v2/models/{name}/infer"' in after
