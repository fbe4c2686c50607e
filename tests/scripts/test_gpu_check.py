"""scripts/gpu_check.py, run here with the CPU standing in for the GPU, so that the script cannot rot unseen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.bodies import sample_windows
from scripts.gpu_check import compare, main
from service.model.forecaster import load_forecaster
from service.model.sessions import SessionConfig
from tests.conftest import ROOT


def test_compare_sees_forecasts_and_quantiles(model_pair: tuple[Path, str, str]) -> None:
    registry, first, second = model_pair
    one = load_forecaster(registry / second, second, SessionConfig("cpu", 1))
    again = load_forecaster(registry / second, second, SessionConfig("cpu", 2))
    other = load_forecaster(registry / first, first, SessionConfig("cpu", 1))
    windows = sample_windows(1024, one.window)
    same = compare(one, again, windows)
    assert set(same) == {"forecast", "quantiles"} and max(same.values()) < 1e-5
    different = compare(other, one, windows)
    assert different["forecast"] > 1e-4 and different["quantiles"] > 1e-4


def test_every_step_runs_with_the_cpu_standing_in(
    model_pair: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    registry, _, version = model_pair
    argv = ["--models", str(registry), "--accelerator", "cpu", "--batches", "1,8,1024", "--seconds", "1"]
    assert main([*argv, "--connections", "1,4"]) == 0
    out = capsys.readouterr().out
    assert f"model {version}" in out and "providers in use (cpu): ['CPUExecutionProvider']" in out
    assert "cpu stand-in vs cpu, 1024 windows: largest relative difference forecasts 0, quantiles 0" in out
    assert "| batch | cpu | cpu stand-in |" in out and "| 1024 | " in out
    rows = [line.split(" | ") for line in out.splitlines() if line.startswith(("| 1 window", "| 1024 windows"))]
    assert len(rows) == 2 * 3 * 2  # modes x bodies x connection counts
    assert all(float(r[3]) > 0 and r[-1] == "0 |" for r in rows)  # req/s measured, no errors
    assert "bulk windows/s (auto, best)" in out and ("targets met" in out or "targets missed:" in out)


def test_the_script_says_why_when_cuda_is_missing(model_pair: tuple[Path, str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.gpu_check", "--models", str(model_pair[0])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("GPU check failed: FORECAST_PROVIDERS=cuda but onnxruntime offers only")
    assert "Traceback" not in result.stderr


def test_the_script_runs_as_a_file_from_any_directory(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "--accelerator" in result.stdout
