"""The real server as a process: hot reload by polling, refused versions, empty start, provider refusal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.service.server import ROOT, free_port, running_service, wait_for

WINDOW = [round(1300 + 5 * np.sin(i / 4) + i, 2) for i in range(60)]


def point_current(registry: Path, version: str) -> None:
    tmp = registry / ".CURRENT.tmp"
    tmp.write_text(version + "\n")
    os.replace(tmp, registry / "CURRENT")


def healthcheck(base: str) -> int:
    """Exit code of the image's HEALTHCHECK command against this server."""
    env = {**os.environ, "FORECAST_PORT": base.rsplit(":", 1)[1]}
    return subprocess.run(
        [sys.executable, "-m", "service.healthcheck"], env=env, cwd=ROOT, capture_output=True, timeout=30
    ).returncode


def served_version(base: str) -> str:
    return httpx.post(f"{base}/predict", json={"window": WINDOW}).json()["model_version"]


def test_swaps_models_without_restart_and_refuses_a_corrupt_one(registry_copy: tuple[Path, str, str]) -> None:
    registry, first, second = registry_copy
    with running_service(registry, FORECAST_RELOAD_SECONDS="0.2") as (base, _):
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        assert served_version(base) == second
        point_current(registry, first)
        assert wait_for(lambda: served_version(base) == first, timeout=10)
        broken = registry / "zz-broken"
        shutil.copytree(registry / second, broken)
        (broken / "model.onnx").write_bytes((broken / "model.onnx").read_bytes()[:500])
        point_current(registry, "zz-broken")
        assert wait_for(
            lambda: 'forecast_model_reloads_total{result="failure"} 1.0' in httpx.get(f"{base}/metrics").text,
            timeout=10,
        )
        answer = httpx.post(f"{base}/predict", json={"window": WINDOW})
        assert answer.status_code == 200 and answer.json()["model_version"] == first
        assert httpx.get(f"{base}/health/ready").status_code == 200


def test_starts_empty_and_becomes_ready_by_itself(tmp_path: Path, model_pair: tuple[Path, str, str]) -> None:
    source, _, version = model_pair
    with running_service(tmp_path, FORECAST_RELOAD_SECONDS="0.2") as (base, _):
        ready = httpx.get(f"{base}/health/ready")
        assert ready.status_code == 503 and ready.json()["error"].startswith("not ready: no model yet")
        assert healthcheck(base) == 1  # the container HEALTHCHECK says unhealthy
        shutil.copytree(source / version, tmp_path / version)
        point_current(tmp_path, version)
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200, timeout=10)
        assert healthcheck(base) == 0
        assert served_version(base) == version


def run_service(model_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m service` with these settings, expected to exit on its own."""
    environ = {**os.environ, "FORECAST_MODEL_DIR": str(model_dir), **env}
    return subprocess.run(
        [sys.executable, "-m", "service"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_cuda_on_a_cpu_machine_refuses_to_start(tmp_path: Path) -> None:
    result = run_service(tmp_path, FORECAST_PROVIDERS="cuda")
    assert result.returncode == 2
    assert "FORECAST_PROVIDERS=cuda but onnxruntime offers only" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_settings_exit_2(tmp_path: Path) -> None:
    result = run_service(tmp_path, FORECAST_MAX_BATCH="0")
    assert result.returncode == 2 and "FORECAST_MAX_BATCH='0'" in result.stderr


def test_a_broken_json_cors_list_is_a_clean_settings_error(tmp_path: Path) -> None:
    result = run_service(tmp_path, FORECAST_CORS_ORIGINS='["http://localhost:3000"')
    assert result.returncode == 2
    assert result.stderr.startswith("error: FORECAST_CORS_ORIGINS='[\"http://localhost:3000\"': not a JSON list")
    assert "Traceback" not in result.stderr


def test_the_server_process_gets_the_switch_interval(registry_copy: tuple[Path, str, str]) -> None:
    # Python's default is 5 ms; the inference thread would wait that long for the GIL behind a busy loop.
    registry, _, _ = registry_copy
    with running_service(registry) as (base, _):
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        card = httpx.get(f"{base}/model").json()
        assert card["runtime"] == {"switch_interval_ms": 0.5}
        assert card["placement"]["devices"]["cpu"]["intra_op_threads"] == 1  # FORECAST_INTRA_OP_THREADS


def test_comma_separated_cors_origins_are_served(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    origins = "http://localhost:3000,https://example.org"
    with running_service(registry, FORECAST_CORS_ORIGINS=origins) as (base, _):
        for origin in ("http://localhost:3000", "https://example.org"):
            answer = httpx.get(f"{base}/health/live", headers={"Origin": origin})
            assert answer.headers.get("access-control-allow-origin") == origin


def in_use(port: int | str) -> str:
    """The one line a service refused for a taken port prints."""
    return (
        f"error: port {port} on 127.0.0.1 is already in use (another server holds it); stop it or "
        "set FORECAST_PORT to a free port"
    )


@pytest.mark.parametrize(("running", "starting"), [("1", "1"), ("2", "2"), ("1", "2")])
def test_port_in_use_exits_2_before_loading_the_model(
    registry_copy: tuple[Path, str, str], running: str, starting: str
) -> None:
    # Workers listen as a SO_REUSEPORT group; a second group on the same port must be refused all the same.
    registry, _, _ = registry_copy
    with running_service(registry, FORECAST_WORKERS=running) as (base, _):
        port = base.rsplit(":", 1)[1]
        result = run_service(registry, FORECAST_PORT=port, FORECAST_WORKERS=starting)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [in_use(port)]
    assert "model " not in result.stderr and "Traceback" not in result.stderr  # refused before any load


@pytest.mark.parametrize(("held", "starting"), [("127.0.0.1", "1"), ("127.0.0.1", "2"), ("0.0.0.0", "2")])
def test_a_port_held_by_workers_not_yet_listening_is_refused(
    registry_copy: tuple[Path, str, str], held: str, starting: str
) -> None:
    # A worker group's supervisor binds the port and leaves listening to its workers, which takes a second or
    # two: the kernel would let a second instance bind and listen meanwhile. The helper holds a port that way.
    registry, _, _ = registry_copy
    port = free_port()
    hold = (
        f"from service.server.listener import bind_listener; s = bind_listener({held!r}, {port}, True); "
        "print(1); input()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", hold], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout and holder.stdout.readline() == "1\n"
            result = run_service(registry, FORECAST_PORT=str(port), FORECAST_WORKERS=starting)
        finally:
            holder.kill()
    assert result.returncode == 2, result.stderr[-500:]
    assert in_use(port) in result.stderr.splitlines()


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


def test_head_answers_as_get_does_without_the_body(registry_copy: tuple[Path, str, str]) -> None:
    # RFC 9110: every general-purpose server supports GET and HEAD; uptime checkers and `curl -I` send HEAD.
    registry, _, _ = registry_copy
    with running_service(registry) as (base, proc):
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        for path in ("/health/live", "/health/ready", "/model", "/v2", "/v2/models/lstm-forecast/ready", "/"):
            got, head = httpx.get(f"{base}{path}"), httpx.head(f"{base}{path}")
            assert (head.status_code, got.status_code, head.content) == (200, 200, b""), path
            assert head.headers["content-type"] == got.headers["content-type"], path
        assert httpx.head(f"{base}/no-such-page").status_code == 404
        assert httpx.head(f"{base}/predict").status_code == 405  # POST only
        samples = httpx.get(f"{base}/metrics").text
        assert 'forecast_http_requests_total{method="HEAD",route="/health/ready",status="200"} 1.0' in samples
        assert wait_for(
            lambda: any(x["method"] == "HEAD" and x["status"] == 200 for x in access_lines(proc)), timeout=5
        )
