"""Shared fixtures: real CSVs cut from the bundled data, the frozen tiny models (no torch) and fresh ones."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from service.ledger.database import Database
from tests import frozen
from tests.frozen import ROOT, TINY, train_tiny
from tests.postgres import Postgres, running_postgres

TEST_DATA = ROOT / "tests" / "data"
SP500 = frozen.BUNDLED / "sp500.csv.gz"
CSV_TABLE = TEST_DATA / "csv"  # one table of price CSVs that every reader of them must read alike
__all__ = ["CSV_TABLE", "ROOT", "TEST_DATA", "TINY", "csv_cases", "cut_csv", "train_tiny"]


def csv_cases() -> list[dict]:
    """The cases of tests/data/csv/cases.json, each with an id for pytest: file, column, then prices or an error."""
    cases = json.loads((CSV_TABLE / "cases.json").read_text())["cases"]
    return [pytest.param(case, id=f"{case['file']}:{case['column']}") for case in cases]


def cut_csv(dest: Path, rows: int, start: int = 0) -> Path:
    """The header plus `rows` consecutive rows of the bundled S&P 500 file."""
    return frozen.cut_csv(SP500, dest, rows, start)


@pytest.fixture(scope="session")
def sp500_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 real trading days (1999-2000): the data the frozen models were trained on."""
    return cut_csv(tmp_path_factory.mktemp("data") / "sp500_small.csv", frozen.SMALL_ROWS)


def frozen_copy(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A private copy of one committed frozen registry (tests/data/tiny/<name>)."""
    dest = tmp_path_factory.mktemp(name) / "registry"
    shutil.copytree(frozen.FROZEN / name, dest)
    return dest


@pytest.fixture(scope="session")
def model_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A registry holding two frozen tiny versions (seeds 1 and 2); CURRENT names the second."""
    first, second = frozen.frozen_versions("pair")
    return frozen_copy(tmp_path_factory, "pair"), first, second


@pytest.fixture
def registry_copy(tmp_path: Path, model_pair: tuple[Path, str, str]) -> tuple[Path, str, str]:
    """A private copy of the two-version registry that a test may change."""
    src, first, second = model_pair
    dest = tmp_path / "registry"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".lock"))
    return dest, first, second


@pytest.fixture(scope="session")
def multi_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A frozen tiny 3-day-horizon model over close, volume, hl_range and the NASDAQ close."""
    (version,) = frozen.frozen_versions("multi")
    return frozen_copy(tmp_path_factory, "multi"), version


@pytest.fixture(scope="session")
def fresh_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[str]]]:
    """The frozen registries trained again now by our trainer: name -> (registry, versions)."""
    work = tmp_path_factory.mktemp("fresh")
    return {name: (work / name, frozen.train_registry(name, work / name, work)) for name in frozen.SPECS}


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL server for the session (its URL: postgres.url); tests that share it use their own tables'
    rows, or clear them first."""
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        found = Database(str(tmp_path / "forecasts.sqlite"))
    else:
        found = Database(empty_postgres(request.getfixturevalue("postgres")))
    yield found
    found.close_all()


def empty_postgres(server: Postgres) -> str:
    """The test server's URL, its schema emptied (tests share the server, never its rows)."""
    with psycopg.connect(server.url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return server.url
