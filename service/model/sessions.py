"""onnxruntime sessions for a model: which providers, how many threads, and the runner per device."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import onnxruntime as ort

from service.errors import ModelError, first_line
from service.model.runners import GraphRunner, Runner, SessionRunner, SplitRunner

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


class ProviderError(Exception):
    """The requested execution provider is not available or not active."""


def requested_providers(mode: str, available: list[str] | None = None) -> list[str]:
    """The provider list to ask onnxruntime for; `cuda` without CUDA available raises ProviderError."""
    available = ort.get_available_providers() if available is None else available
    if mode == "cpu":
        return [CPU]
    if CUDA in available:
        return [CUDA, CPU]
    if mode == "cuda":
        raise ProviderError(
            f"FORECAST_PROVIDERS=cuda but onnxruntime offers only {available}; install onnxruntime-gpu "
            "with a matching CUDA/cuDNN and run on an NVIDIA GPU, or set FORECAST_PROVIDERS=auto|cpu"
        )
    return [CPU]


def check_active_provider(mode: str, active: list[str]) -> None:
    """onnxruntime silently falls back to CPU when CUDA fails to initialise: refuse that for mode=cuda."""
    if mode == "cuda" and (not active or active[0] != CUDA):
        raise ProviderError(
            f"FORECAST_PROVIDERS=cuda but the session runs on {active}: the CUDA provider failed to "
            "initialise (check the CUDA/cuDNN libraries and the driver)"
        )


# Below these batch sizes a CPU session answers sooner than the GPU (H200, 16 cores, the default model):
# CUDA's ~4 ms launch floor per run loses to the CPU up to ~200 windows; captured graphs cut it to ~1.1 ms.
GPU_MIN_BATCH_PLAIN = 192
GPU_MIN_BATCH_GRAPHS = 48


@dataclass(frozen=True)
class SessionConfig:
    """How to build onnxruntime sessions: provider mode, threads, and how batches are placed on a GPU."""

    providers: str = "auto"
    intra_op_threads: int = 1
    gpu_min_batch: int = 0  # 0: from the measurements above
    cuda_graphs: bool = True
    max_batch: int = 1024
    parallel_min_batch: int = 128  # CPU batches this large use every intra-op thread; smaller ones, one


def plan_devices(config: SessionConfig) -> dict[str, list]:
    """Device name -> the providers of its session; with CUDA, a CPU session too for the small batches."""
    requested = requested_providers(config.providers)
    if requested[0] != CUDA:
        return {"cpu": [CPU]}
    cuda_options = {"enable_cuda_graph": "1"} if config.cuda_graphs else {}
    return {"cuda": [(CUDA, cuda_options), CPU], "cpu": [CPU]}


def session_options(intra_op_threads: int) -> ort.SessionOptions:
    """Options for serving concurrent requests: all graph optimisations, one inter-op thread, no spinning
    (bench/peers/session.py gives the peers the same)."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # onnxruntime's own warnings go to stderr otherwise
    # Idle intra-op threads otherwise spin for a while after each run, taking the CPU the event loop needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def make_session(
    onnx_bytes: bytes, config: SessionConfig, providers: list[str | tuple[str, dict[str, Any]]]
) -> ort.InferenceSession:
    """An onnxruntime session with the serving options and our thread count."""
    options = session_options(config.intra_op_threads)
    try:
        return ort.InferenceSession(onnx_bytes, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise ModelError(f"onnxruntime cannot load model.onnx: {first_line(exc)}") from None


def build_sessions(onnx_bytes: bytes, config: SessionConfig) -> dict[str, ort.InferenceSession]:
    """One session per planned device; a CUDA one must really run on CUDA when cuda was asked for."""
    sessions = {}
    for device, providers in plan_devices(config).items():
        sessions[device] = make_session(onnx_bytes, config, providers)
        if device == "cuda":
            check_active_provider(config.providers, sessions[device].get_providers())
    return sessions


def build_runners(
    sessions: dict[str, ort.InferenceSession], onnx_bytes: bytes, config: SessionConfig, outputs: list[str]
) -> dict[str, Runner]:
    """A runner per session: the CPU one keeps a one-thread session for small batches when it has more threads;
    the GPU one replays captured graphs unless they are off or cannot be captured."""
    runners: dict[str, Runner] = {}
    for device, session in sessions.items():
        plain = SessionRunner(session, outputs)
        runners[device] = plain
        if device == "cpu" and config.intra_op_threads > 1 and config.parallel_min_batch > 1:
            runners[device] = split_threads(plain, onnx_bytes, config, outputs)
        if device == "cuda" and config.cuda_graphs:
            runners[device] = graph_runner(session, outputs, config) or plain_cuda(onnx_bytes, config, outputs)
    return runners


def split_threads(parallel: SessionRunner, onnx_bytes: bytes, config: SessionConfig, outputs: list[str]) -> SplitRunner:
    """The CPU runner with a one-thread session of its own for the batches under parallel_min_batch."""
    single = make_session(onnx_bytes, replace(config, intra_op_threads=1), [CPU])
    return SplitRunner(SessionRunner(single, outputs), parallel, config.parallel_min_batch)


def graph_runner(session: ort.InferenceSession, outputs: list[str], config: SessionConfig) -> GraphRunner | None:
    """Captured graphs for every batch size up to max_batch, or None (logged) when capture fails."""
    try:
        runner = GraphRunner(session, outputs, config.max_batch)
        runner.capture()
    except Exception as exc:  # e.g. a node the CUDA provider does not run: graphs need all of them on it
        log.warning("CUDA graphs could not be captured (%s); running the GPU session without them", first_line(exc))
        return None
    return runner


def plain_cuda(onnx_bytes: bytes, config: SessionConfig, outputs: list[str]) -> SessionRunner:
    """A CUDA session without graph capture (a session with capture enabled cannot run without it)."""
    session = make_session(onnx_bytes, config, plan_devices(replace(config, cuda_graphs=False))["cuda"])
    check_active_provider(config.providers, session.get_providers())
    return SessionRunner(session, outputs)


def default_gpu_min_batch(config: SessionConfig, runners: dict[str, Runner]) -> int:
    """The setting, or the measured crossover: lower when the GPU replays captured graphs."""
    if config.gpu_min_batch:
        return config.gpu_min_batch
    graphs = isinstance(runners.get("cuda"), GraphRunner)
    return GPU_MIN_BATCH_GRAPHS if graphs else GPU_MIN_BATCH_PLAIN
