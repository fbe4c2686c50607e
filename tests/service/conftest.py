"""Fixtures the service's tests share: the app in-process on the frozen tiny models, a faked CUDA provider list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import service.model.sessions as sessions_module
from service.app import create_app
from service.config import Settings
from service.model.forecaster import Forecaster, load_forecaster
from service.model.runners import SessionRunner
from service.model.sessions import CPU, SessionConfig


def make_client(registry: Path, **overrides: object) -> TestClient:
    settings = Settings(model_dir=registry, reload_seconds=0, intra_op_threads=1, _env_file=None, **overrides)
    return TestClient(create_app(settings))


@pytest.fixture
def client(model_pair: tuple[Path, str, str]) -> Iterator[TestClient]:
    with make_client(model_pair[0], admin_token="s3cret", max_batch=64, max_body_bytes=200_000) as c:
        yield c


def windows(n: int, seed: int = 0) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return (1400 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 60)), axis=1))).round(2).tolist()


@pytest.fixture
def multi_client(multi_model: tuple[Path, str]) -> Iterator[TestClient]:
    with make_client(multi_model[0]) as c:
        yield c


def multi_features(seed: int = 0) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    walk = lambda scale: (scale * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))).round(4).tolist()  # noqa: E731
    return {
        "close": walk(1400),
        "volume": walk(9e8),
        "hl_range": (np.abs(rng.normal(0.01, 0.003, 60))).tolist(),
        "nasdaq_close": walk(4000),
    }


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


def window_array(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (1000 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 60)), axis=1))).astype(np.float32)


def load(registry: Path, version: str, config: SessionConfig = GPU_LIKE) -> Forecaster:
    return load_forecaster(registry / version, version, config)


def intra_op_threads(runner: SessionRunner) -> int:
    return runner.session.get_session_options().intra_op_num_threads
