"""Placement by batch size and the padded graph runner, on CPU. Only the device plan is faked: the "cuda" entry
gets a CPU session, so every other step (two sessions, graph buffers, padding, golden checks per size,
reload, metrics) is the real code."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import numpy as np
import pytest

import service.model.sessions as sessions_module
from service.errors import ModelError
from service.inference.batching import Batcher
from service.metrics import ServiceMetrics
from service.model.forecaster import Forecaster, load_forecaster
from service.model.golden import golden_sizes
from service.model.registry import ModelRegistry
from service.model.runners import GraphRunner, SessionRunner, SplitRunner, graph_sizes, pad_rows
from service.model.sessions import CPU, SessionConfig

GPU_LIKE = SessionConfig("auto", 1, gpu_min_batch=0, cuda_graphs=True, max_batch=128)


@pytest.fixture
def fake_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """What plan_devices returns on a CUDA machine, with a CPU session standing in for the GPU's."""
    real = sessions_module.plan_devices
    monkeypatch.setattr(
        sessions_module,
        "plan_devices",
        lambda config: real(config) if config.providers == "cpu" else {"cuda": [CPU], "cpu": [CPU]},
    )


def windows(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (1000 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 60)), axis=1))).astype(np.float32)


def load(registry: Path, version: str, config: SessionConfig = GPU_LIKE) -> Forecaster:
    return load_forecaster(registry / version, version, config)


def test_graph_sizes_are_powers_of_two_up_to_max_batch() -> None:
    assert graph_sizes(1) == [1]
    assert graph_sizes(64) == [1, 2, 4, 8, 16, 32, 64]
    assert graph_sizes(100) == [1, 2, 4, 8, 16, 32, 64, 128]


def test_padding_repeats_the_first_window() -> None:
    x = windows(3)
    padded = pad_rows(x, 8)
    assert padded.shape == (8, 60) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[:3], x)
    np.testing.assert_array_equal(padded[3:], np.repeat(x[:1], 5, axis=0))
    assert pad_rows(x, 3) is not None and np.array_equal(pad_rows(x, 3), x)


def test_small_batches_run_on_cpu_and_large_ones_on_the_gpu_with_the_same_answers(
    fake_gpu: None, model_pair: tuple[Path, str, str]
) -> None:
    registry, _, version = model_pair
    gpu = load(registry, version)
    plain = load(registry, version, SessionConfig("cpu", 1))
    assert gpu.devices == ["cuda", "cpu"] and plain.devices == ["cpu"]
    assert isinstance(gpu.runners["cuda"], GraphRunner) and isinstance(gpu.runners["cpu"], SessionRunner)
    assert gpu.gpu_min_batch == sessions_module.GPU_MIN_BATCH_GRAPHS
    assert [gpu.device_for(n) for n in (1, 47, 48, 128)] == ["cpu", "cpu", "cuda", "cuda"]
    for n in (1, 3, 47, 48, 100, 128):  # 3 and 100 are padded to 4 and 128
        x = windows(n, seed=n)
        got, want = gpu.predict(x), plain.predict(x)
        assert got[0].shape == want[0].shape == (n, 1) and got[1].shape == want[1].shape
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5)
    placement = gpu.describe()["placement"]
    assert placement["gpu_min_batch"] == 48
    assert placement["devices"]["cuda"]["graph_sizes"] == graph_sizes(128)
    assert placement["devices"]["cuda"]["batches"] == 3 and placement["devices"]["cpu"]["batches"] == 3
    assert plain.describe()["placement"] == {
        "gpu_min_batch": None,
        "devices": {"cpu": {"providers": [CPU], "graph_sizes": [], "intra_op_threads": 1, "batches": 6}},
    }


def test_a_batch_larger_than_the_largest_graph_is_refused(fake_gpu: None, model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    gpu = load(registry, version)
    with pytest.raises(ValueError, match="larger than the largest captured size 128"):
        gpu.predict(windows(129), "cuda")


def test_the_setting_and_graphs_off_change_the_threshold(fake_gpu: None, model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    no_graphs = load(registry, version, SessionConfig("auto", 1, cuda_graphs=False, max_batch=128))
    assert isinstance(no_graphs.runners["cuda"], SessionRunner)
    assert no_graphs.gpu_min_batch == sessions_module.GPU_MIN_BATCH_PLAIN
    fixed = load(registry, version, SessionConfig("auto", 1, gpu_min_batch=2, max_batch=128))
    assert [fixed.device_for(n) for n in (1, 2)] == ["cpu", "cuda"]


def test_every_captured_size_is_golden_checked(
    fake_gpu: None, model_pair: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, _, version = model_pair
    honest = GraphRunner.run

    def wrong_at_16(self: GraphRunner, x: np.ndarray) -> list[np.ndarray]:
        out = honest(self, x)
        return [a * 1.01 for a in out] if self.slot_for(len(x)).size == 16 else out

    monkeypatch.setattr(GraphRunner, "run", wrong_at_16)
    with pytest.raises(ModelError, match=r"differ from the trainer's by .* on cuda, batch 16$"):
        load(registry, version)


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


def test_the_batcher_labels_each_run_with_its_device(fake_gpu: None, model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    gpu = load(registry, version)
    metrics = ServiceMetrics()

    async def scenario() -> None:
        batcher = Batcher(max_batch=128, wait_s=0.0, max_queue=1024, metrics=metrics)
        batcher.start()
        try:
            await batcher.submit(gpu, windows(1), 5)
            await batcher.submit(gpu, windows(64), 5)
            await batcher.submit(gpu, windows(2), 5)
        finally:
            await batcher.stop()

    asyncio.run(scenario())
    counts = {
        s.labels["device"]: s.value for s in metrics.inference_seconds.collect()[0].samples if s.name.endswith("_count")
    }
    assert counts == {"cpu": 2.0, "cuda": 1.0}


def test_reload_builds_and_checks_both_sessions_together(
    fake_gpu: None, registry_copy: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, first, second = registry_copy
    models = ModelRegistry(registry, GPU_LIKE)
    assert asyncio.run(models.reload()).status == "loaded"
    assert models.current.version == second and models.current.devices == ["cuda", "cpu"]
    honest = GraphRunner.run
    monkeypatch.setattr(GraphRunner, "run", lambda self, x: [a + 1.0 for a in honest(self, x)])
    (registry / "CURRENT").write_text(first + "\n")
    outcome = asyncio.run(models.reload())
    assert outcome.status == "refused" and "on cuda, batch 1" in outcome.reason
    assert models.current.version == second  # the old pair keeps serving
    monkeypatch.setattr(GraphRunner, "run", honest)
    assert asyncio.run(models.reload(force=True)).status == "loaded"
    assert models.current.version == first and models.current.devices == ["cuda", "cpu"]
    assert json.loads((registry / first / "model.json").read_text())["version"] == first


class CountingRunner(SessionRunner):
    """A real session runner that also notes the size of each batch it runs."""

    def __init__(self, runner: SessionRunner) -> None:
        super().__init__(runner.session, runner.outputs)
        self.sizes: list[int] = []

    def run(self, windows: np.ndarray) -> list[np.ndarray]:
        self.sizes.append(len(windows))
        return super().run(windows)


def intra_op_threads(runner: SessionRunner) -> int:
    return runner.session.get_session_options().intra_op_num_threads


def test_small_cpu_batches_run_on_one_thread_and_large_ones_on_all(model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    split = load(registry, version, SessionConfig("cpu", 2, parallel_min_batch=8))
    plain = load(registry, version, SessionConfig("cpu", 1))
    runner = split.runners["cpu"]
    assert isinstance(runner, SplitRunner)
    assert intra_op_threads(runner.single) == 1 and intra_op_threads(runner.parallel) == 2
    runner.single, runner.parallel = CountingRunner(runner.single), CountingRunner(runner.parallel)
    for n in (1, 7, 8, 20):
        got, want = split.predict(windows(n, seed=n)), plain.predict(windows(n, seed=n))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5)
    assert runner.single.sizes == [1, 7] and runner.parallel.sizes == [8, 20]
    shown = split.describe()["placement"]["devices"]["cpu"]
    assert shown["parallel_min_batch"] == 8 and shown["intra_op_threads"] == 2


@pytest.mark.parametrize("config", [SessionConfig("cpu", 1), SessionConfig("cpu", 2, parallel_min_batch=1)])
def test_one_thread_or_parallel_min_batch_1_keeps_a_single_session(
    model_pair: tuple[Path, str, str], config: SessionConfig
) -> None:
    registry, _, version = model_pair
    runner = load(registry, version, config).runners["cpu"]
    assert type(runner) is SessionRunner and intra_op_threads(runner) == config.intra_op_threads


def test_the_golden_check_reaches_both_sessions_of_a_split_runner(model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    runner = load(registry, version, SessionConfig("cpu", 2, parallel_min_batch=8)).runners["cpu"]
    assert isinstance(runner, SplitRunner)
    assert golden_sizes(runner, 4) == [4, 8]  # the golden windows, then repeated up to the parallel size
    assert golden_sizes(runner, 20) == [7, 20]
    assert golden_sizes(runner.single, 4) == [4]
