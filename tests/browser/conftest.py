"""Fixtures the browser tests share: the real server on a copy of the tiny models, and a headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from scripts.chromium import chromium
from tests.live_server import serving_copy


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model_pair: tuple[Path, str, str]) -> Iterator[str]:
    with serving_copy(model_pair[0], tmp_path_factory.mktemp("served")) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The real server over the bundled default model, as `make serve` starts it: (base URL, version)."""
    from training.publish.bundled import install_default  # torch-free

    registry = tmp_path_factory.mktemp("bundled") / "models"
    version = install_default(registry)
    assert version is not None
    with serving_copy(registry, tmp_path_factory.mktemp("served")) as base:
        yield base, version
