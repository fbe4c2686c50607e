"""Before the server starts: make pip-installed CUDA libraries loadable and prove a CUDA session really runs."""

from __future__ import annotations

import base64
import ctypes
import logging
import warnings

import numpy as np
import onnxruntime as ort

from service.errors import first_line
from service.model.sessions import CPU, CUDA, ProviderError, requested_providers

log = logging.getLogger(__name__)

# y = x + x over one float: 82 bytes of ONNX (opset 13), enough to make onnxruntime build a CUDA session.
PROBE_MODEL = base64.b64decode(
    "CAgSDWxzdG0tZm9yZWNhc3Q6OQoOCgF4CgF4EgF5IgNBZGQSBXByb2JlWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ=="
)


def preload_cuda_libraries() -> None:
    """onnxruntime-gpu finds the CUDA and cuDNN of the nvidia-* wheels only once they are preloaded."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    try:
        preload(cuda=True, cudnn=True, msvc=False)
    except Exception as exc:  # a missing library is reported by the probe, with its name
        log.warning("preloading CUDA libraries failed: %s", first_line(exc))


def driver_problem() -> str | None:
    """Why the NVIDIA driver cannot be used, or None: libcuda.so.1 comes from the host, not from any wheel."""
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError as exc:
        return f"no NVIDIA driver: libcuda.so.1 cannot be loaded ({first_line(exc)}); no CUDA device is visible"
    return None


def probe_cuda() -> str | None:
    """None when a CUDA session builds and runs; otherwise one line naming what is missing."""
    problem = driver_problem()
    if problem:
        return problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # onnxruntime warns, then silently uses the CPU: checked below
        try:
            session = ort.InferenceSession(PROBE_MODEL, providers=[CUDA, CPU])
            if session.get_providers()[0] != CUDA:
                return "the CUDA provider did not initialise (a CUDA 13 or cuDNN 9 library is missing, or no device)"
            session.run(None, {"x": np.ones(1, dtype=np.float32)})
        except Exception as exc:  # onnxruntime raises several types; the message names the library
            return first_line(exc)
    return None


def resolve_providers(mode: str, available: list[str] | None = None) -> list[str]:
    """The providers to serve with: for CUDA, proven by a probe; `cuda` refuses, `auto` falls back to CPU."""
    providers = requested_providers(mode, available)
    if providers[0] != CUDA:
        return providers
    preload_cuda_libraries()
    problem = probe_cuda()
    if problem is None:
        return providers
    if mode == "cuda":
        raise ProviderError(f"FORECAST_PROVIDERS=cuda but CUDA cannot run here: {problem}")
    log.warning("CUDA is offered but cannot run (%s); serving on CPU", problem)
    return [CPU]
