"""Faults survived by the real server: broken registries, reloads under load, SIGTERM with requests in flight."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from tests.live_server import Burst, running_service, wait_for

AUTH = {"Authorization": "Bearer fault-token"}


def window(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return (1400 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))).round(2).tolist()


def point_current(registry: Path, text: str) -> None:
    tmp = registry / ".CURRENT.tmp"
    tmp.write_text(text)
    os.replace(tmp, registry / "CURRENT")


def damaged_copy(registry: Path, good: str, name: str, damage: Callable[[Path], None]) -> str:
    shutil.copytree(registry / good, registry / name)
    damage(registry / name)
    return name


def edit_onnx(directory: Path, change: Callable[[onnx.ModelProto], None]) -> None:
    proto = onnx.load(str(directory / "model.onnx"))
    change(proto)
    onnx.save(proto, str(directory / "model.onnx"))


def rename_input(proto: onnx.ModelProto) -> None:
    for node in proto.graph.node:
        node.input[:] = ["prices" if n == "window" else n for n in node.input]
    proto.graph.input[0].name = "prices"


def truncate(d: Path) -> None:
    (d / "model.onnx").write_bytes((d / "model.onnx").read_bytes()[:700])


FAULTS: dict[str, tuple[Callable[[Path, str], str], str]] = {
    "empty CURRENT": (lambda r, g: "", "CURRENT is empty"),
    "CURRENT names a missing version": (lambda r, g: "v-does-not-exist", "which is not in the registry"),
    "CURRENT points outside the registry": (lambda r, g: "../../etc", "invalid version name"),
    "truncated model.onnx": (lambda r, g: damaged_copy(r, g, "bad-truncated", truncate), "cannot load model.onnx"),
    "random bytes in model.onnx": (
        lambda r, g: damaged_copy(r, g, "bad-random", lambda d: (d / "model.onnx").write_bytes(os.urandom(5000))),
        "cannot load model.onnx",
    ),
    "wrong input name": (
        lambda r, g: damaged_copy(r, g, "bad-input", lambda d: edit_onnx(d, rename_input)),
        "expected one float input 'window'",
    ),
    "wrong window in the graph": (
        lambda r, g: damaged_copy(
            r,
            g,
            "bad-shape",
            lambda d: edit_onnx(d, lambda p: setattr(p.graph.input[0].type.tensor_type.shape.dim[1], "dim_value", 30)),
        ),
        "window",
    ),
    "ONNX metadata missing": (
        lambda r, g: damaged_copy(r, g, "bad-meta", lambda d: edit_onnx(d, lambda p: p.ClearField("metadata_props"))),
        "ONNX metadata names version None",
    ),
    "model.json missing": (
        lambda r, g: damaged_copy(r, g, "bad-card", lambda d: (d / "model.json").unlink()),
        "model.json is missing",
    ),
}


def fix_version_names(registry: Path, good: str) -> None:
    """Damaged copies keep the good version's name inside; point them at their own directory name."""
    for d in registry.glob("bad-*"):
        card_path = d / "model.json"
        if card_path.exists():
            card = json.loads(card_path.read_text())
            card["version"] = d.name
            card_path.write_text(json.dumps(card))
        if (d / "model.onnx").exists() and d.name not in ("bad-truncated", "bad-random"):
            try:
                proto = onnx.load(str(d / "model.onnx"))
            except Exception:
                continue
            for entry in proto.metadata_props:
                if entry.key == "version":
                    entry.value = d.name
            onnx.save(proto, str(d / "model.onnx"))


def test_registry_faults_keep_the_last_good_model(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, good = registry_copy
    with running_service(registry, FORECAST_RELOAD_SECONDS="0", FORECAST_ADMIN_TOKEN="fault-token") as (base, proc):
        for i, (name, (make, reason)) in enumerate(FAULTS.items(), start=1):
            point_current(registry, make(registry, good))
            fix_version_names(registry, good)
            refused = httpx.post(f"{base}/admin/reload", headers=AUTH)
            assert refused.status_code == 409, (name, refused.text)
            assert reason in refused.json()["error"] and f"still serving {good}" in refused.json()["error"], name
            answer = httpx.post(f"{base}/predict", json={"window": window(i)})
            assert answer.status_code == 200 and answer.json()["model_version"] == good, name
            metrics = httpx.get(f"{base}/metrics").text
            assert f'forecast_model_reloads_total{{result="failure"}} {float(i)}' in metrics, name
        moved = registry.with_name("moved-away")
        registry.rename(moved)  # the whole registry directory disappears
        refused = httpx.post(f"{base}/admin/reload", headers=AUTH)
        assert refused.status_code == 409 and "does not exist" in refused.json()["error"]
        assert httpx.post(f"{base}/predict", json={"window": window(0)}).json()["model_version"] == good
        moved.rename(registry)
        log = proc.log_text()
        assert log.count('"model ') >= 1 and "refused" in log and "does not exist" in log


def test_a_registry_with_only_bad_versions_stays_not_ready(registry_copy: tuple[Path, str, str]) -> None:
    registry, first, second = registry_copy
    for version in (first, second):
        (registry / version / "model.onnx").write_bytes(b"not onnx")
    with running_service(registry, FORECAST_RELOAD_SECONDS="0.2") as (base, _):
        ready = httpx.get(f"{base}/health/ready")
        assert ready.status_code == 503 and "cannot load model.onnx" in ready.json()["error"]
        assert httpx.post(f"{base}/predict", json={"window": window(0)}).status_code == 503
        assert httpx.get(f"{base}/health/live").status_code == 200


def offline_forecasts(registry: Path, versions: list[str], windows: list[list[float]]) -> dict[str, np.ndarray]:
    x = np.array(windows, dtype=np.float32)
    return {v: ort.InferenceSession(str(registry / v / "model.onnx")).run(None, {"window": x})[0] for v in versions}


async def client_loop(base: str, windows: list[list[float]], index: int, stop: float, seen: list) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < stop:
            i = (index + len(seen)) % len(windows)
            response = await client.post("/predict", json={"window": windows[i]})
            seen.append((i, response.status_code, response.json()))


def test_reload_under_load_loses_nothing(registry_copy: tuple[Path, str, str]) -> None:
    registry, first, second = registry_copy
    windows = [window(s) for s in range(16)]
    expected = offline_forecasts(registry, [first, second], windows)
    seen: list = []

    async def load_and_flip(base: str) -> None:
        stop = time.monotonic() + 30
        clients = [asyncio.create_task(client_loop(base, windows, i, stop, seen)) for i in range(32)]
        for flip in range(5):
            await asyncio.sleep(5)
            await asyncio.to_thread(point_current, registry, (first, second)[flip % 2])
        await asyncio.gather(*clients)

    with running_service(registry, FORECAST_RELOAD_SECONDS="0.2") as (base, _):
        asyncio.run(load_and_flip(base))
        metrics = httpx.get(f"{base}/metrics").text
    assert len(seen) > 500
    failures = [s for s in seen if s[1] != 200]
    assert failures == []
    versions = {answer["model_version"] for _, _, answer in seen}
    assert versions == {first, second}
    for i, _, answer in seen:
        assert answer["forecast"] == pytest.approx(float(expected[answer["model_version"]][i]), rel=1e-5)
    assert 'forecast_model_reloads_total{result="success"} 6.0' in metrics  # start + 5 flips


def test_sigterm_with_requests_in_flight(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    refused_while_in_flight: list[bool] = []
    # A one-second batching wait keeps all 32 requests queued, in flight, when SIGTERM arrives.
    with running_service(registry, FORECAST_BATCH_WAIT_MS="1000", FORECAST_MAX_BATCH="1024") as (base, proc):
        burst = Burst(base, [{"window": window(i)} for i in range(32)])
        burst.start()
        assert wait_for(lambda: _pending(base) == 32, timeout=20, interval=0.01), "32 requests never in flight"
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        refused_while_in_flight.append(wait_for(lambda: _refused(base), timeout=5, interval=0.02))
        still_pending = len(burst.results) < 32
        results = burst.finish()
        code = proc.wait(timeout=30)
        assert time.monotonic() - started < 30
    assert refused_while_in_flight == [True], "new connections still accepted after SIGTERM"
    assert still_pending, "the requests finished before new connections were refused; the test proved nothing"
    assert code == 0
    assert results == [200] * 32


def _pending(base: str) -> float:
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith("forecast_pending_windows "):
            return float(line.split()[1])
    return 0.0


def _refused(base: str) -> bool:
    try:
        httpx.get(f"{base}/health/live", timeout=1)
    except httpx.ConnectError:
        return True
    except httpx.HTTPError:
        return False
    return False
