"""Fixtures the client's tests share: the real service as a process over the frozen tiny models."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.live_server import running_service


def windows(n: int, seed: int = 0) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return (1500 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 60)), axis=1))).round(2).tolist()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model_pair: tuple[Path, str, str]) -> Iterator[str]:
    registry = tmp_path_factory.mktemp("client") / "registry"
    shutil.copytree(model_pair[0], registry, ignore=shutil.ignore_patterns(".lock"))
    with running_service(registry, FORECAST_RELOAD_SECONDS="0", FORECAST_MAX_BATCH="4") as (base, _):
        yield base
