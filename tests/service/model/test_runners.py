"""Placement by batch size and the padded graph runner, on CPU. Only the device plan is faked: the "cuda" entry
gets a CPU session, so every other step (two sessions, graph buffers, padding, golden checks per size,
reload, metrics) is the real code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import service.model.sessions as sessions_module
from service.model.runners import GraphRunner, SessionRunner, SplitRunner, graph_sizes, pad_rows
from service.model.sessions import CPU, SessionConfig
from tests.service.conftest import intra_op_threads, load, window_array


def test_graph_sizes_are_powers_of_two_up_to_max_batch() -> None:
    assert graph_sizes(1) == [1]
    assert graph_sizes(64) == [1, 2, 4, 8, 16, 32, 64]
    assert graph_sizes(100) == [1, 2, 4, 8, 16, 32, 64, 128]


def test_padding_repeats_the_first_window() -> None:
    x = window_array(3)
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
        x = window_array(n, seed=n)
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
        gpu.predict(window_array(129), "cuda")


class CountingRunner(SessionRunner):
    """A real session runner that also notes the size of each batch it runs."""

    def __init__(self, runner: SessionRunner) -> None:
        super().__init__(runner.session, runner.outputs)
        self.sizes: list[int] = []

    def run(self, windows: np.ndarray) -> list[np.ndarray]:
        self.sizes.append(len(windows))
        return super().run(windows)


def test_small_cpu_batches_run_on_one_thread_and_large_ones_on_all(model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    split = load(registry, version, SessionConfig("cpu", 2, parallel_min_batch=8))
    plain = load(registry, version, SessionConfig("cpu", 1))
    runner = split.runners["cpu"]
    assert isinstance(runner, SplitRunner)
    assert intra_op_threads(runner.single) == 1 and intra_op_threads(runner.parallel) == 2
    runner.single, runner.parallel = CountingRunner(runner.single), CountingRunner(runner.parallel)
    for n in (1, 7, 8, 20):
        got, want = split.predict(window_array(n, seed=n)), plain.predict(window_array(n, seed=n))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5)
    assert runner.single.sizes == [1, 7] and runner.parallel.sizes == [8, 20]
    shown = split.describe()["placement"]["devices"]["cpu"]
    assert shown["parallel_min_batch"] == 8 and shown["intra_op_threads"] == 2
