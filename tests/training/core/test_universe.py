"""The series one run pools: the files, then the simulated paths, each known by an identity that holds on any
CPU (a file by its bytes, a simulated path by its name)."""

from __future__ import annotations

import pytest

from training.core.config import TrainConfig
from training.core.data import BUNDLED_DATA
from training.core.errors import DataError
from training.core.universe import load_universe, series_identity

SP500 = BUNDLED_DATA / "sp500.csv.gz"


def test_files_come_first_then_the_simulated_paths_with_a_digest_of_their_prices() -> None:
    series = load_universe(TrainConfig(data=[SP500], simulated=3))
    assert [s.source for s in series] == [
        "sp500.csv.gz",
        "simulated GJR-skew-t #1",
        "simulated GARCH-t #2",
        "simulated GJR-skew-t #3",
    ]
    digests = {s.target.sha256 for s in series[1:]}
    assert len(digests) == 3 and all(len(d) == 64 for d in digests)
    again = load_universe(TrainConfig(data=[SP500], simulated=3))
    assert [s.target.sha256 for s in again] == [s.target.sha256 for s in series]  # reproducible on one machine


def test_a_file_is_known_by_its_bytes_and_a_simulated_path_by_its_name() -> None:
    assert series_identity("sp500.csv.gz", "ab12") != series_identity("sp500.csv.gz", "cd34")
    # The same path drawn on another CPU: the last bits of its prices, and so their digest, differ.
    assert series_identity("simulated GARCH-t #2", "ab12") == series_identity("simulated GARCH-t #2", "cd34")
    assert series_identity("simulated GARCH-t #2", "ab12") != series_identity("simulated GARCH-t #4", "ab12")


def test_simulated_paths_have_no_other_features() -> None:
    with pytest.raises(DataError, match="simulated paths have only a close; add --simulated 0"):
        load_universe(TrainConfig(data=[SP500], features=["close", "volume"], simulated=2))
    assert len(load_universe(TrainConfig(data=[SP500], features=["close", "volume"], simulated=0))) == 1
