"""In-process inference speed of the same trained model: onnxruntime vs PyTorch eager, by batch size."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.bodies import sample_windows

# 4 layers x 50 units over 60 steps: layer 1 is 4 gates x (1 + 50) x 50 multiply-adds, layers 2-4
# 4 x (50 + 50) x 50 each; x2 FLOP per multiply-add, x60 steps = 8.42 MFLOP per window.
BATCHES = (1, 8, 64, 256, 1024)


def lstm_flops(window: int, layers: int, hidden: int, features: int = 1) -> float:
    """FLOPs of one window through a stacked LSTM (gate matrix products only)."""
    first = 4 * (features + hidden) * hidden * 2
    rest = (layers - 1) * 4 * (2 * hidden) * hidden * 2
    return float(window * (first + rest))


def peak_gflops(cores: int) -> tuple[float, str]:
    """A rough fp32 peak: FMA width from the CPU flags x 2 FMA units x max clock x cores."""
    info = Path("/proc/cpuinfo").read_text()
    flags = next((line for line in info.splitlines() if line.startswith("flags")), "")
    lanes = 16 if " avx512f" in flags else 8 if " avx2" in flags else 4
    mhz = [float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")]
    ghz = (max(mhz) if mhz else 2500.0) / 1000
    return lanes * 2 * 2 * ghz * cores, f"{lanes} fp32 lanes x 2 (FMA) x 2 units x {ghz:.2f} GHz x {cores} cores"


def time_call(fn: Callable[[], object], min_seconds: float = 0.5) -> float:
    """Seconds per call: the median of 5 timed loops after a warm-up."""
    fn()
    runs = []
    for _ in range(5):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < min_seconds / 5 or count < 2:
            fn()
            count += 1
        runs.append((time.perf_counter() - started) / count)
    return statistics.median(runs)


def measure(version_dir: Path, threads: int) -> list[dict]:
    """Latency per call and windows/s of onnxruntime and torch eager at each batch size."""
    import onnxruntime as ort
    import torch

    from bench.peer_app import load_model

    torch.set_num_threads(threads)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # onnxruntime's default spinning kept: alone in-process it is faster
    session = ort.InferenceSession(str(version_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
    model = load_model(version_dir.parent)
    card = json.loads((version_dir / "model.json").read_text())
    flops = lstm_flops(card["window"], card["architecture"]["layers"], card["architecture"]["hidden"])
    rows = []
    for batch in BATCHES:
        x = sample_windows(batch, seed=batch)
        xt = torch.from_numpy(x)

        def eager(xt: torch.Tensor = xt) -> object:
            with torch.no_grad():
                return model(xt)

        for engine, fn in (("onnxruntime", lambda x=x: session.run(None, {"window": x})), ("torch eager", eager)):
            seconds = time_call(fn)
            rows.append(
                {
                    "engine": engine,
                    "batch": batch,
                    "ms_per_call": seconds * 1000,
                    "windows_per_s": batch / seconds,
                    "gflops": batch * flops / seconds / 1e9,
                }
            )
    return rows
