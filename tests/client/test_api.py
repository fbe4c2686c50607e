"""The typed client (sync and async) and its CSV command, against the real server started as a process."""

from __future__ import annotations

import asyncio
import dataclasses
import http.server
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest

from client import (
    AsyncForecastClient,
    BadResponse,
    Forecast,
    ForecastClient,
    InvalidRequest,
    Unavailable,
    Unreachable,
)
from tests.conftest import ROOT
from tests.live_server import free_port, running_service
from tests.service.conftest import windows


def predict_requests(base: str) -> float:
    """How many /predict requests the server has answered (its own metrics)."""
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith('forecast_http_requests_total{method="POST",route="/predict",status="200"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_single_and_batch_answers_are_typed_and_equal_the_server(server: str) -> None:
    window = windows(1)[0]
    raw = httpx.post(f"{server}/predict", json={"window": window}).json()
    with ForecastClient(server) as client:
        assert client.ready() is True
        answer = client.predict(window)
        batch = client.predict_many([window, window])
        card = client.model()
    assert isinstance(answer, Forecast) and answer.forecast == raw["forecast"]
    assert answer.quantiles == {float(k): v for k, v in raw["quantiles"].items()}
    assert answer.interval is not None and (answer.interval.lower, answer.interval.upper) == (
        raw["interval"]["lower"],
        raw["interval"]["upper"],
    )
    assert answer.between(0.95).upper == raw["quantiles"]["0.975"]
    assert answer.forecast_id and len({answer.forecast_id, *(b.forecast_id for b in batch)}) == 3  # one id each
    # a batch answers each window as alone, to the float32 rounding the batch property test allows
    for b in batch:
        assert b.forecast == pytest.approx(answer.forecast, rel=1e-6) and b.model_version == answer.model_version
        assert list(b.quantiles.values()) == pytest.approx(list(answer.quantiles.values()), rel=1e-6)
    assert card["version"] == answer.model_version


def test_predict_posts_the_newest_prices_the_model_reads(server: str) -> None:
    prices = (1400 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, 500)))).round(2).tolist()
    longest = httpx.get(f"{server}/model").json()["max_window"]
    raw = httpx.post(f"{server}/predict", json={"window": prices[-longest:]}).json()
    short = httpx.post(f"{server}/predict", json={"window": prices[-60:]}).json()
    with ForecastClient(server) as client:
        assert client.predict(prices).forecast == raw["forecast"]  # the newest max_window of the 500
        assert client.predict(prices[-60:]).forecast == short["forecast"]
        assert [f.forecast for f in client.predict_many([prices, prices[-60:]])] == [raw["forecast"], short["forecast"]]


def test_predict_many_is_chunked_at_the_servers_max_batch(server: str) -> None:
    many = windows(10, seed=3)
    before = predict_requests(server)
    with ForecastClient(server) as client:
        found = client.predict_many(many)
        singles = [client.predict(w) for w in many]
    # order kept across chunks; batches of 4 and of 1 may round the last float32 bit differently (1e-7)
    assert [f.model_version for f in found] == [f.model_version for f in singles]
    for batched, single in zip(found, singles, strict=True):
        assert batched.forecast == pytest.approx(single.forecast, rel=1e-6)
        assert batched.quantiles == pytest.approx(single.quantiles, rel=1e-6)
    assert predict_requests(server) - before == 3 + 10  # 4 + 4 + 2 windows, then the ten singles


def test_a_503_with_retry_after_is_retried_until_the_model_is_there(
    tmp_path: Path, model_pair: tuple[Path, str, str]
) -> None:
    source, _, version = model_pair
    with running_service(tmp_path, FORECAST_RELOAD_SECONDS="0.2") as (base, _):
        first = httpx.post(f"{base}/predict", json={"window": windows(1)[0]})
        assert first.status_code == 503 and first.headers["retry-after"] == "5"

        def publish() -> None:  # the model appears while the client waits
            time.sleep(1.0)
            shutil.copytree(source / version, tmp_path / version)
            (tmp_path / "CURRENT").write_text(version + "\n")

        threading.Thread(target=publish).start()
        started = time.monotonic()
        with ForecastClient(base, max_wait=15) as client:
            answer = client.predict(windows(1)[0])
        assert answer.model_version == version and 4.5 <= time.monotonic() - started < 15


def test_the_retry_budget_is_bounded(tmp_path: Path) -> None:
    with running_service(tmp_path, FORECAST_RELOAD_SECONDS="0") as (base, _):
        started = time.monotonic()
        with ForecastClient(base, max_wait=1.0) as client, pytest.raises(Unavailable) as info:
            client.predict(windows(1)[0])
        assert time.monotonic() - started < 4
    assert info.value.status == 503 and info.value.code == "not_ready" and "no model yet" in info.value.message


def test_errors_are_typed_with_the_servers_message_and_code(server: str) -> None:
    with ForecastClient(server) as client, pytest.raises(InvalidRequest) as info:
        client.predict([100.0, 101.0])
    assert (info.value.status, info.value.code) == (422, "invalid_input")
    assert info.value.message == "'window' has 2 prices; this model reads 60 to 300"
    with ForecastClient(f"http://127.0.0.1:{free_port()}") as nobody, pytest.raises(Unreachable, match="cannot reach"):
        nobody.predict(windows(1)[0])


def test_a_non_json_answer_is_a_bad_response() -> None:
    class Html(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>Bad gateway</body></html>")

        do_GET = do_POST  # the client's first call asks GET /model for the longest window

        def log_message(self, *args: object) -> None:
            pass

    proxy = http.server.HTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        with (
            ForecastClient(f"http://127.0.0.1:{proxy.server_port}") as client,
            pytest.raises(BadResponse, match="HTTP 502 with a body that is not JSON: '<html>"),
        ):
            client.predict(windows(1)[0])
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_the_async_client_gives_the_same_answers(server: str) -> None:
    many = windows(6, seed=5)

    async def run() -> tuple[list[Forecast], bool]:
        async with AsyncForecastClient(server) as client:
            return await client.predict_many(many), await client.ready()

    found, ready = asyncio.run(run())
    with ForecastClient(server) as client:
        again = client.predict_many(many)
    assert [dataclasses.replace(f, forecast_id=None) for f in found] == [
        dataclasses.replace(f, forecast_id=None) for f in again
    ]
    assert ready and all(f.forecast_id for f in found)


def test_the_client_installs_on_its_own_with_httpx_only(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT / "client"),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("lstm_forecast_client-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"client/__init__.py", "client/api.py", "client/flow.py", "client/__main__.py"} <= set(names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert [line for line in metadata.splitlines() if line.startswith("Requires-Dist")] == [
        "Requires-Dist: httpx<1,>=0.27"
    ]
