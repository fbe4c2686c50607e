"""onnxruntime sessions: providers, threads per batch size, the GPU threshold, CUDA graphs or a plain GPU session."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import service.model.sessions as sessions_module
from service.model.runners import GraphRunner, SessionRunner
from service.model.sessions import CPU, CUDA, ProviderError, SessionConfig, check_active_provider, requested_providers
from tests.service.conftest import intra_op_threads, load


def test_the_setting_and_graphs_off_change_the_threshold(fake_gpu: None, model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    no_graphs = load(registry, version, SessionConfig("auto", 1, cuda_graphs=False, max_batch=128))
    assert isinstance(no_graphs.runners["cuda"], SessionRunner)
    assert no_graphs.gpu_min_batch == sessions_module.GPU_MIN_BATCH_PLAIN
    fixed = load(registry, version, SessionConfig("auto", 1, gpu_min_batch=2, max_batch=128))
    assert [fixed.device_for(n) for n in (1, 2)] == ["cpu", "cuda"]


def test_failed_capture_falls_back_to_a_plain_gpu_session(
    fake_gpu: None, model_pair: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    registry, _, version = model_pair

    def refuse(self: GraphRunner) -> None:
        raise RuntimeError("This session cannot use the CUDA Graph feature: not all nodes are on the CUDA EP")

    monkeypatch.setattr(GraphRunner, "capture", refuse)
    with caplog.at_level(logging.WARNING):
        gpu = load(registry, version)
    assert isinstance(gpu.runners["cuda"], SessionRunner) and gpu.gpu_min_batch == 192
    assert "CUDA graphs could not be captured (This session cannot use the CUDA Graph feature" in caplog.text


@pytest.mark.parametrize("config", [SessionConfig("cpu", 1), SessionConfig("cpu", 2, parallel_min_batch=1)])
def test_one_thread_or_parallel_min_batch_1_keeps_a_single_session(
    model_pair: tuple[Path, str, str], config: SessionConfig
) -> None:
    registry, _, version = model_pair
    runner = load(registry, version, config).runners["cpu"]
    assert type(runner) is SessionRunner and intra_op_threads(runner) == config.intra_op_threads


def test_provider_selection_on_a_cpu_machine() -> None:
    assert requested_providers("auto") == [CPU]  # this machine's onnxruntime has no CUDA
    assert requested_providers("cpu") == [CPU]
    with pytest.raises(ProviderError, match="FORECAST_PROVIDERS=cuda but onnxruntime offers only"):
        requested_providers("cuda")


def test_provider_selection_where_cuda_is_offered() -> None:
    # Only the GPU is mocked: the list onnxruntime would report on a CUDA machine.
    assert requested_providers("auto", [CUDA, CPU]) == [CUDA, CPU]
    assert requested_providers("cuda", [CUDA, CPU]) == [CUDA, CPU]
    assert requested_providers("cpu", [CUDA, CPU]) == [CPU]


def test_silent_cpu_fallback_is_refused_for_cuda() -> None:
    check_active_provider("cuda", [CUDA, CPU])
    check_active_provider("auto", [CPU])
    with pytest.raises(ProviderError, match="the CUDA provider failed to initialise"):
        check_active_provider("cuda", [CPU])
