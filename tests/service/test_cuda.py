"""The CUDA check before serving. This machine has no GPU: only the provider list onnxruntime would report on
a GPU build is faked; the probe itself (driver, session, run) is the real code."""

from __future__ import annotations

import logging

import pytest

from service.model.cuda import PROBE_MODEL, probe_cuda, resolve_providers
from service.model.sessions import CPU, CUDA, ProviderError

GPU_BUILD = [CUDA, CPU]  # what onnxruntime-gpu lists on any machine, GPU or not


def test_the_probe_names_the_missing_driver_here() -> None:
    problem = probe_cuda()
    assert problem is not None and problem.startswith("no NVIDIA driver: libcuda.so.1 cannot be loaded")


def test_cuda_requested_without_a_usable_gpu_is_refused_with_the_reason() -> None:
    with pytest.raises(ProviderError, match=r"^FORECAST_PROVIDERS=cuda but CUDA cannot run here: no NVIDIA driver"):
        resolve_providers("cuda", GPU_BUILD)


def test_auto_falls_back_to_cpu_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert resolve_providers("auto", GPU_BUILD) == [CPU]
    assert "CUDA is offered but cannot run (no NVIDIA driver" in caplog.text


def test_cpu_builds_never_probe() -> None:
    assert resolve_providers("auto", [CPU]) == [CPU] and resolve_providers("cpu", GPU_BUILD) == [CPU]
    with pytest.raises(ProviderError, match="onnxruntime offers only"):
        resolve_providers("cuda", [CPU])


def test_the_probe_model_runs() -> None:
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(PROBE_MODEL, providers=[CPU])
    assert session.run(None, {"x": np.array([2.5], dtype=np.float32)})[0].tolist() == [5.0]
