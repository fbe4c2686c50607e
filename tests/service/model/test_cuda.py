"""The CUDA check before serving, on whatever machine runs the tests: without an NVIDIA driver the probe names the
missing driver; with one it finds the GPU, or says why CUDA cannot run (e.g. the CPU build of onnxruntime). The
driver's presence and a GPU are also simulated, so that both branches run on every machine; the probe itself
(driver, session, run) is the real code."""

from __future__ import annotations

import ctypes
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from service.model import cuda
from service.model.cuda import PROBE_MODEL, probe_cuda, resolve_providers
from service.model.sessions import CPU, CUDA, ProviderError

GPU_BUILD = [CUDA, CPU]  # what onnxruntime-gpu lists on any machine, GPU or not
NO_DRIVER = "no NVIDIA driver: libcuda.so.1 cannot be loaded"
NO_PROVIDER = "the CUDA provider did not initialise"
SESSION = ort.InferenceSession  # the real class, kept before a test patches the module's


def driver_loads() -> bool:
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def expected_problem() -> str | None:
    """What the probe must say here: the missing driver, a CUDA provider that cannot start, or nothing."""
    if not driver_loads():
        return NO_DRIVER
    if CUDA not in ort.get_available_providers():
        return NO_PROVIDER  # a driver, but the CPU build of onnxruntime
    return None  # onnxruntime-gpu on a machine with a GPU: the probe must find it


def with_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """libcuda.so.1 loads, as where an NVIDIA driver is installed (everything else is the real library)."""
    real = ctypes.CDLL

    def cdll(name: str, *args: Any, **kwargs: Any) -> Any:
        return object() if name == "libcuda.so.1" else real(name, *args, **kwargs)

    monkeypatch.setattr(cuda.ctypes, "CDLL", cdll)


class GpuSession:
    """What onnxruntime-gpu's session on a working GPU reports: CUDA first, and the probe graph runs."""

    def __init__(self, model: bytes, providers: list[str]) -> None:
        self.real = SESSION(model, providers=[CPU])

    def get_providers(self) -> list[str]:
        return GPU_BUILD

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.real.run(names, feeds)


def starts(problem: str | None) -> Callable[[str | None], bool]:
    return lambda found: found is None if problem is None else found is not None and found.startswith(problem)


def test_the_probe_says_what_this_machine_has() -> None:
    expected = expected_problem()
    assert starts(expected)(probe_cuda()), f"expected {expected!r}, the probe said {probe_cuda()!r}"


def test_without_a_driver_the_probe_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str, *args: Any, **kwargs: Any) -> Any:
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(cuda.ctypes, "CDLL", missing)
    assert (probe_cuda() or "").startswith(NO_DRIVER)
    with pytest.raises(ProviderError, match=r"^FORECAST_PROVIDERS=cuda but CUDA cannot run here: no NVIDIA driver"):
        resolve_providers("cuda", GPU_BUILD)


def test_a_driver_with_the_cpu_build_of_onnxruntime_is_refused_for_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    with_driver(monkeypatch)
    monkeypatch.setattr(cuda.ort, "InferenceSession", lambda model, providers: SESSION(model, providers=[CPU]))
    assert (probe_cuda() or "").startswith(NO_PROVIDER)
    with pytest.raises(ProviderError, match=f"CUDA cannot run here: {NO_PROVIDER}"):
        resolve_providers("cuda", GPU_BUILD)


def test_a_driver_and_a_gpu_are_found_and_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with_driver(monkeypatch)
    monkeypatch.setattr(cuda.ort, "InferenceSession", GpuSession)
    assert probe_cuda() is None
    assert resolve_providers("cuda", GPU_BUILD) == GPU_BUILD and resolve_providers("auto", GPU_BUILD) == GPU_BUILD


def test_auto_falls_back_to_cpu_and_says_why(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with_driver(monkeypatch)
    monkeypatch.setattr(cuda.ort, "InferenceSession", lambda model, providers: SESSION(model, providers=[CPU]))
    with caplog.at_level(logging.WARNING):
        assert resolve_providers("auto", GPU_BUILD) == [CPU]
    assert f"CUDA is offered but cannot run ({NO_PROVIDER}" in caplog.text


def test_cpu_builds_never_probe() -> None:
    assert resolve_providers("auto", [CPU]) == [CPU] and resolve_providers("cpu", GPU_BUILD) == [CPU]
    with pytest.raises(ProviderError, match="onnxruntime offers only"):
        resolve_providers("cuda", [CPU])


def test_the_probe_model_runs() -> None:
    session = ort.InferenceSession(PROBE_MODEL, providers=[CPU])
    assert session.run(None, {"x": np.array([2.5], dtype=np.float32)})[0].tolist() == [5.0]


def test_a_process_that_finds_a_driver_library_is_told_why_cuda_cannot_run(tmp_path: Path) -> None:
    """A stand-in libcuda.so.1 (an empty shared library, built here with gcc) on the loader's path: a whole
    process sees a driver, as on a GPU host with the CPU build of onnxruntime."""
    source = tmp_path / "libcuda.c"
    source.write_text("int cuInit(unsigned int flags) { return 100; }  /* CUDA_ERROR_NO_DEVICE */\n")
    built = subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(tmp_path / "libcuda.so.1"), str(source)], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    env = {**os.environ, "LD_LIBRARY_PATH": str(tmp_path)}
    probe = "from service.model.cuda import probe_cuda; print(probe_cuda())"
    said = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert said.stdout.startswith(NO_PROVIDER), said.stdout + said.stderr
