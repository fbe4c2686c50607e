"""How the bench installs and starts each peer: its own venv (not a project dependency), its command line,
its readiness path, and its request for one window."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_BATCH, WAIT_S = 64, 0.002  # the same batching budget for every peer


@dataclass(frozen=True)
class Peer:
    """A serving framework, configured as its documentation recommends, on the same ONNX model."""

    name: str
    packages: tuple[str, ...]
    ready_path: str
    path: str
    body: Callable[[list[float]], bytes]
    argv: Callable[[Path, int], list[str]]  # (venv bin directory, port) -> command

    @property
    def venv(self) -> Path:
        return ROOT / f".venv-peer-{self.name.split()[0].lower()}"


def ensure_venv(peer: Peer) -> Path:
    """The peer's venv bin directory, created and installed on first use."""
    bin_dir = peer.venv / "bin"
    marker = peer.venv / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(peer.venv)], check=True)
        pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, *peer.packages, "onnxruntime==1.32.0", "numpy==2.4.6"], check=True)
        marker.write_text(" ".join(peer.packages))
    return bin_dir


def mlserver_argv(bin_dir: Path, port: int) -> list[str]:
    """Writes MLServer's settings (adaptive batching: max_batch_size, max_batch_time) and starts it."""
    folder = Path(tempfile.mkdtemp(prefix="mlserver-"))
    settings = {
        "http_port": port,
        "grpc_port": port + 1 if port < 65535 else port - 1,
        "metrics_port": 0,
        "metrics_dir": str(folder / "metrics"),  # not ./.metrics in the working tree
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    model = {
        "name": "lstm-forecast",
        "implementation": "bench.peers.mlserver_runtime.OnnxForecast",
        "max_batch_size": MAX_BATCH,
        "max_batch_time": WAIT_S,
    }
    (folder / "model-settings.json").write_text(json.dumps(model))
    return [str(bin_dir / "mlserver"), "start", str(folder)]


def oip_body(window: list[float]) -> bytes:
    tensor = {"name": "window", "datatype": "FP32", "shape": [1, len(window)], "data": window}
    return json.dumps({"inputs": [tensor]}).encode()


PEERS = (
    Peer(
        "LitServe (batched)",
        ("litserve==0.2.19",),
        "/health",
        "/predict",
        lambda w: json.dumps({"window": w}).encode(),
        lambda bin_dir, port: [str(bin_dir / "python"), "-m", "bench.peers.litserve_app"],
    ),
    Peer(
        "MLServer (adaptive batching)",
        (
            "mlserver==1.7.1",
            "uvloop<0.22",
        ),  # MLServer 1.7 workers call asyncio.get_event_loop(), which uvloop 0.22 refuses
        "/v2/health/ready",
        "/v2/models/lstm-forecast/infer",
        oip_body,
        mlserver_argv,
    ),
    Peer(
        "BentoML (batchable API)",
        ("bentoml==1.4.40",),
        "/readyz",
        "/predict",
        lambda w: json.dumps({"windows": [w]}).encode(),
        lambda bin_dir, port: [
            str(bin_dir / "bentoml"),
            "serve",
            "bench.peers.bentoml_service:Forecast",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
        ],
    ),
)
