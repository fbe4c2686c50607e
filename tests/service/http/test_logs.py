"""Access logs: one JSON line per request, written off the event loop."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from tests.live_server import WINDOW, running_service, wait_for


def access_lines(proc: subprocess.Popen[str]) -> list[dict]:
    lines = [json.loads(x) for x in proc.log_text().splitlines() if x.startswith("{")]  # type: ignore[attr-defined]
    return [x for x in lines if x.get("logger") == "service.access"]


def test_access_log_has_one_json_line_per_request(tmp_path: Path, model_pair: tuple[Path, str, str]) -> None:
    source, _, version = model_pair
    registry = tmp_path / "registry"
    shutil.copytree(source, registry)
    with running_service(registry) as (base, proc):
        assert httpx.post(f"{base}/predict", json={"window": WINDOW}, headers={"X-Request-ID": "req-1"}).is_success
        assert (
            httpx.post(f"{base}/predict", json={"window": [1.0]}, headers={"X-Request-ID": "req-2"}).status_code == 422
        )
        assert wait_for(lambda: {"req-1", "req-2"} <= {x["request_id"] for x in access_lines(proc)}, timeout=5)
        by_id = {x["request_id"]: x for x in access_lines(proc)}
        ok, bad = by_id["req-1"], by_id["req-2"]
        assert (ok["method"], ok["path"], ok["status"], ok["batch_size"], ok["model_version"]) == (
            "POST",
            "/predict",
            200,
            1,
            version,
        )
        assert ok["message"] == "request" and ok["level"] == "info" and ok["duration_ms"] > 0
        assert ok["time"].endswith("Z") and bad["status"] == 422 and bad["batch_size"] is None
    with running_service(registry, FORECAST_LOG_LEVEL="warning") as (base, proc):
        assert httpx.post(f"{base}/predict", json={"window": WINDOW}).is_success
        time.sleep(0.5)
        assert access_lines(proc) == []
