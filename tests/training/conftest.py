"""Fixtures the trainer's tests share: a tiny version trained and published once per session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def version_dir(fresh_models: dict[str, tuple[Path, list[str]]]) -> Path:
    registry, (_, second) = fresh_models["pair"]
    return registry / second
