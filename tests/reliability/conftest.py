"""A real server over a private copy of the two-version registry, shared by a module's tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import running_service


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, model_pair: tuple[Path, str, str]) -> Iterator[str]:
    """The base URL of `python -m service` serving the second tiny model."""
    source, _, _ = model_pair
    registry = tmp_path_factory.mktemp("live") / "registry"
    shutil.copytree(source, registry, ignore=shutil.ignore_patterns(".lock"))
    with running_service(registry, FORECAST_RELOAD_SECONDS="0", FORECAST_MAX_BATCH="1024") as (base, _):
        yield base
