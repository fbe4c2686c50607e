"""The real server as a process: hot reload by polling, refused versions, empty start, provider refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np

from tests.live_server import ROOT, running_service, wait_for

WINDOW = [round(1300 + 5 * np.sin(i / 4) + i, 2) for i in range(60)]


def run_service(model_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m service` with these settings, expected to exit on its own."""
    environ = {**os.environ, "FORECAST_MODEL_DIR": str(model_dir), **env}
    return subprocess.run(
        [sys.executable, "-m", "service"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_cuda_with_the_cpu_build_of_onnxruntime_refuses_to_start(tmp_path: Path) -> None:
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
