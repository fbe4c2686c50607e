"""The bench's tutorial peer (FastAPI + PyTorch eager) loads any registry's live model and agrees with its ONNX."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from bench.bodies import sample_windows
from bench.peer_app import load_model

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "training" / "bundled"


def test_importing_the_peer_needs_no_model(tmp_path: Path) -> None:
    # bench.model_speed imports load_model with --models pointing anywhere; the import must not read ./models
    result = subprocess.run(
        [sys.executable, "-c", "import bench.peer_app"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-500:]


def test_the_eager_model_gives_the_onnx_forecasts() -> None:
    windows = sample_windows(4)
    with torch.no_grad():
        eager = load_model(BUNDLED)(torch.from_numpy(windows))[0].numpy()
    version = (BUNDLED / "CURRENT").read_text().strip()
    session = ort.InferenceSession(str(BUNDLED / version / "model.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(eager, session.run(["forecast"], {"window": windows})[0], rtol=1e-5)
