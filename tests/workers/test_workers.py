"""FORECAST_WORKERS: several server processes on one port, with metrics summed, reloads and SIGTERM in all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from tests.live_server import ROOT, Burst, free_port, running_service, wait_for, window


def metric(base: str, prefix: str) -> float:
    """The sum of every series whose line starts with `prefix`."""
    lines = httpx.get(f"{base}/metrics").text.splitlines()
    return sum(float(line.split()[-1]) for line in lines if line.startswith(prefix))


def worker_cards(base: str, tries: int = 200) -> dict[int, dict]:
    """pid -> /model card, over fresh connections until both workers have answered."""
    seen: dict[int, dict] = {}
    for _ in range(tries):
        card = httpx.get(f"{base}/model").json()  # a new connection each time: the kernel picks the worker
        seen[card["worker_pid"]] = card
        if len(seen) == 2:
            break
    return seen


def worker_versions(base: str) -> dict[int, str]:
    """pid -> live version of each worker."""
    return {pid: card["version"] for pid, card in worker_cards(base).items()}


def test_auto_and_thread_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.config.usable_cpus", lambda: 8)
    assert Settings(workers="auto", _env_file=None).worker_count() == 8
    assert Settings(workers=2, _env_file=None).threads_per_worker() == 4
    assert Settings(workers=3, intra_op_threads=1, _env_file=None).threads_per_worker() == 1
    assert Settings(workers=16, _env_file=None).threads_per_worker() == 1


def test_every_worker_runs_with_the_switch_interval(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    with running_service(registry, FORECAST_WORKERS="2", FORECAST_SWITCH_INTERVAL_MS="0.25") as (base, _):
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        cards = worker_cards(base)
        assert len(cards) == 2 and all(c["runtime"] == {"switch_interval_ms": 0.25} for c in cards.values()), cards


def test_metrics_sum_over_workers(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, version = registry_copy
    with running_service(registry, FORECAST_WORKERS="2") as (base, _):
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        pids = worker_versions(base)
        assert len(pids) == 2 and set(pids.values()) == {version}, pids
        for i in range(40):
            assert httpx.post(f"{base}/predict", json={"window": window(i)}).status_code == 200
        assert metric(base, 'forecast_http_requests_total{method="POST",route="/predict",status="200"}') == 40
        assert metric(base, "forecast_batch_size_windows_sum") == 40
        assert metric(base, "forecast_ready ") == 1 and metric(base, "forecast_pending_windows ") == 0
        text = httpx.get(f"{base}/metrics").text
        assert f'forecast_model_info{{version="{version}"}} 1.0' in text


def test_hot_reload_reaches_every_worker(registry_copy: tuple[Path, str, str]) -> None:
    registry, first, second = registry_copy
    with running_service(registry, FORECAST_WORKERS="2", FORECAST_RELOAD_SECONDS="0.2") as (base, _):
        assert wait_for(lambda: len(worker_versions(base)) == 2)
        (registry / "CURRENT").write_text(first + "\n")
        assert wait_for(lambda: set(worker_versions(base).values()) == {first}, timeout=30), worker_versions(base)
        seen = worker_versions(base)
        assert len(seen) == 2 and set(seen.values()) == {first}
        assert httpx.post(f"{base}/predict", json={"window": window(1)}).json()["model_version"] == first
        card = json.loads((registry / second / "model.json").read_text())
        assert card["version"] == second


def test_sigterm_drains_every_worker(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    # A one-second batching wait keeps the requests queued, in flight in both workers, when SIGTERM arrives.
    env = {"FORECAST_WORKERS": "2", "FORECAST_BATCH_WAIT_MS": "1000", "FORECAST_MAX_BATCH": "1024"}
    with running_service(registry, **env) as (base, proc):
        assert wait_for(lambda: len(worker_versions(base)) == 2)
        burst = Burst(base, [{"window": window(i)} for i in range(32)])
        burst.start()
        assert wait_for(lambda: metric(base, "forecast_pending_windows ") >= 32, timeout=20, interval=0.005)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        still_pending = len(burst.results) < 32
        results = burst.finish()
        code = proc.wait(timeout=30)
        assert time.monotonic() - started < 30
    assert still_pending, "the requests finished before SIGTERM; the test proved nothing"
    assert code == 0
    assert results == [200] * 32


def test_an_unusable_metrics_directory_is_refused_before_serving(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    env = {**os.environ, "FORECAST_MODEL_DIR": str(registry), "FORECAST_PORT": str(free_port())}
    env.update({"FORECAST_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": "/proc/no-such-dir/metrics"})
    result = subprocess.run(
        [sys.executable, "-m", "service"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot prepare the metrics directory of 2 workers" in errors[0]
