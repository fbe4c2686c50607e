"""The image's HEALTHCHECK (python -m service.healthcheck): failing while no model serves, passing once one does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.live_server import ROOT, point_current, running_service, wait_for
from tests.service.model.test_registry import served_version


def healthcheck(base: str) -> int:
    """Exit code of the image's HEALTHCHECK command against this server."""
    env = {**os.environ, "FORECAST_PORT": base.rsplit(":", 1)[1]}
    return subprocess.run(
        [sys.executable, "-m", "service.healthcheck"], env=env, cwd=ROOT, capture_output=True, timeout=30
    ).returncode


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
