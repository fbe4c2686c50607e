"""scripts/gpu_check.py's comparison, run here on CPU against CPU so that the script cannot rot unseen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.gpu_check import compare, sample_windows
from service.forecaster import SessionConfig, load_forecaster
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
