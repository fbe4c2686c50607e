"""The Open Inference Protocol v2 endpoints, driven by NVIDIA's own tritonclient against the real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.live_server import running_service


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
    sizes = [o.get("parameters", {}).get("binary_data_size") for o in response["outputs"]]
    assert sizes == ([5 * 4, 5 * 5 * 4] if binary else [None, None])  # binary answers really were binary


def post_binary(
    base: str, x: np.ndarray, declared: int | None = None, extra: bytes = b"", **params: object
) -> httpx.Response:
    """A binary-extension request written by hand: JSON header, then the raw little-endian float32 bytes."""
    data = x.astype("<f4").tobytes() + extra
    tensor = {"name": "window", "datatype": "FP32", "shape": list(x.shape)}
    tensor["parameters"] = {"binary_data_size": len(data) if declared is None else declared}
    head = json.dumps({"inputs": [tensor], "parameters": params}).encode()
    return httpx.post(
        f"{base}/v2/models/lstm-forecast/infer",
        content=head + data,
        headers={"Inference-Header-Content-Length": str(len(head)), "Content-Type": "application/octet-stream"},
    )


def test_binary_answers_for_every_output(server: tuple[str, str]) -> None:
    base, _ = server
    x = windows(7)
    reply = post_binary(base, x, binary_data_output=True)
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/octet-stream"
    length = int(reply.headers["inference-header-content-length"])
    head = json.loads(reply.content[:length])
    sizes = [o["parameters"]["binary_data_size"] for o in head["outputs"]]
    assert [o["name"] for o in head["outputs"]] == ["forecast", "quantiles"] and sizes == [7 * 4, 7 * 5 * 4]
    assert len(reply.content) == length + sum(sizes)
    forecast = np.frombuffer(reply.content[length : length + sizes[0]], dtype="<f4")
    as_json = post_binary(base, x).json()
    assert as_json["outputs"][0]["data"] == pytest.approx(forecast.tolist(), rel=1e-6)


@pytest.mark.parametrize(
    ("values", "declared", "extra", "message"),
    [
        (windows(2), 2 * 60 * 4 - 4, b"", "binary_data_size 476 does not match shape [2, 60]: 480 bytes"),
        (windows(2), 2 * 60 * 4, b"\0\0\0\0", "the body holds 484 bytes after the JSON header"),
        (windows(2)[:, :59], 2 * 60 * 4, b"", "shape [2, 59] must be [batch, length], batch >= 1, length 60 to 300"),
        (np.where(np.arange(60) == 7, np.nan, windows(1)), None, b"", "window[0][7]"),
        (np.where(np.arange(60) == 3, np.inf, windows(1)), None, b"", "window[0][3]"),
    ],
)
def test_bad_binary_bodies_get_a_400_that_names_the_problem(
    server: tuple[str, str], values: np.ndarray, declared: int | None, extra: bytes, message: str
) -> None:
    base, _ = server
    reply = post_binary(base, values, declared, extra)
    assert reply.status_code == 400 and message in reply.json()["error"], reply.text


def test_a_body_shorter_than_its_declared_tensor_is_a_400(server: tuple[str, str]) -> None:
    base, _ = server
    x = windows(2)
    data = x.astype("<f4").tobytes()[:-8]
    head = json.dumps(
        {"inputs": [{"name": "window", "datatype": "FP32", "shape": [2, 60], "parameters": {"binary_data_size": 480}}]}
    ).encode()
    reply = httpx.post(
        f"{base}/v2/models/lstm-forecast/infer",
        content=head + data,
        headers={"Inference-Header-Content-Length": str(len(head))},
    )
    assert reply.status_code == 400 and "holds 472 bytes after the JSON header" in reply.json()["error"]


def test_metadata_has_dynamic_batch_dims(server: tuple[str, str]) -> None:
    base, version = server
    meta = client(base).get_model_metadata("lstm-forecast")
    assert meta["name"] == "lstm-forecast" and meta["versions"] == [version] and meta["platform"] == "onnx"
    assert meta["inputs"] == [{"name": "window", "datatype": "FP32", "shape": [-1, -1]}]  # any length in range
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
    with pytest.raises(
        InferenceServerException, match=r"shape \[1, 59\] must be \[batch, length\], batch >= 1, length 60 to 300"
    ):
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


def test_protocol_errors_are_labelled_in_the_failure_metric(server: tuple[str, str]) -> None:
    base, _ = server
    httpx.post(f"{base}/v2/models/lstm-forecast/infer", content=b"{not json")
    httpx.get(f"{base}/v2/models/nope")
    text = httpx.get(f"{base}/metrics").text
    assert 'forecast_failures_total{reason="protocol_error"}' in text
    assert 'reason="http_400"' not in text and 'reason="http_404"' not in text


def tensor_request(
    shape: object = (1, 60), size: object = 240, params: object = None, out_params: object = None
) -> dict:
    window = {"name": "window", "datatype": "FP32", "shape": list(shape) if isinstance(shape, tuple) else shape}
    window["parameters"] = {"binary_data_size": size}
    body: dict = {"inputs": [window]}
    if params is not None:
        body["parameters"] = params
    if out_params is not None:
        body["outputs"] = [{"name": "forecast", "parameters": out_params}]
    return body


@pytest.mark.parametrize(
    ("body", "data", "message"),
    [
        (tensor_request(size=240.0), None, "binary_data_size 240.0 does not match shape [1, 60]"),
        (tensor_request(size=True), None, "binary_data_size True does not match"),
        (tensor_request(shape=(0, 60), size=0), b"", "shape [0, 60] must be [batch, length], batch >= 1"),
        (tensor_request(shape=[True, 60]), None, "must be [batch, length], batch >= 1"),
        (tensor_request(params=[1]), None, "the request 'parameters' must be an object, got list"),
        (tensor_request(out_params="x"), None, "output 'forecast' 'parameters' must be an object, got str"),
        ({**tensor_request(), "outputs": 5}, None, "'outputs' must be a list of objects"),
        (
            {"inputs": [{"name": "window", "datatype": "FP32", "shape": [1, 60], "parameters": "x"}]},
            None,
            "input 'window' 'parameters' must be an object, got str",
        ),
    ],
)
def test_hostile_protocol_bodies_get_a_400(
    server: tuple[str, str], body: dict, data: bytes | None, message: str
) -> None:
    base, _ = server
    head = json.dumps(body).encode()
    tail = windows(1).astype("<f4").tobytes() if data is None else data
    reply = httpx.post(
        f"{base}/v2/models/lstm-forecast/infer",
        content=head + tail,
        headers={"Inference-Header-Content-Length": str(len(head))},
    )
    assert reply.status_code == 400 and message in reply.json()["error"], reply.text
