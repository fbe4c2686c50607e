"""Shared fixtures: real CSVs cut from the bundled data and real tiny models trained by our trainer."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from training.__main__ import main as training_main

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "tests" / "data"
SP500 = ROOT / "training" / "data" / "sp500.csv.gz"
TINY = [
    "--window",
    "60",
    "--layers",
    "2",
    "--hidden",
    "8",
    "--epochs",
    "2",
    "--val-days",
    "50",
    "--test-days",
    "50",
    "--batch-size",
    "32",
    "--no-progress",
    "--threads",
    "1",
]


def cut_csv(dest: Path, rows: int, start: int = 0) -> Path:
    """The header plus `rows` consecutive rows of the bundled S&P 500 file."""
    lines = gzip.decompress(SP500.read_bytes()).decode().splitlines()
    dest.write_text("\n".join([lines[0], *lines[1 + start : 1 + start + rows]]) + "\n")
    return dest


def train_tiny(registry: Path, data: Path, *extra: str) -> str:
    """Trains a tiny model with the real CLI into `registry` and returns the version it published.

    --force: a 2-epoch model is not meant to pass the quality gate (tested on its own).
    """
    code = training_main(["train", "--data", str(data), "--out", str(registry), *TINY, "--force", *extra])
    assert code == 0
    return (registry / "CURRENT").read_text().strip()


@pytest.fixture(scope="session")
def sp500_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 real trading days (1999-2000)."""
    return cut_csv(tmp_path_factory.mktemp("data") / "sp500_small.csv", 400)


@pytest.fixture(scope="session")
def model_pair(tmp_path_factory: pytest.TempPathFactory, sp500_small: Path) -> tuple[Path, str, str]:
    """A registry holding two tiny versions (different seeds); CURRENT names the second."""
    registry = tmp_path_factory.mktemp("registry")
    first = train_tiny(registry, sp500_small, "--seed", "1")
    second = train_tiny(registry, sp500_small, "--seed", "2")
    assert first != second
    return registry, first, second


@pytest.fixture
def registry_copy(tmp_path: Path, model_pair: tuple[Path, str, str]) -> tuple[Path, str, str]:
    """A private copy of the two-version registry that a test may change."""
    src, first, second = model_pair
    dest = tmp_path / "registry"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".lock"))
    return dest, first, second


@pytest.fixture(scope="session")
def multi_model(tmp_path_factory: pytest.TempPathFactory, sp500_small: Path) -> tuple[Path, str]:
    """A tiny 3-day-horizon model over close, volume, hl_range and the NASDAQ close."""
    data = tmp_path_factory.mktemp("multi")
    lines = gzip.decompress((SP500.parent / "nasdaq.csv.gz").read_bytes()).decode().splitlines()
    nasdaq = data / "nasdaq_small.csv"
    nasdaq.write_text("\n".join(lines[:401]) + "\n")
    registry = data / "registry"
    version = train_tiny(
        registry,
        sp500_small,
        "--horizon",
        "3",
        "--features",
        "close,volume,hl_range,nasdaq_close",
        "--extra",
        f"nasdaq={nasdaq}",
    )
    return registry, version
