"""python -m client replay: every day of a CSV posted in date order from --from on, the realised prices posted with
--series, and the series' live calibration printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from client.csvfile import CsvError, Prices
from client.replay import first_day
from tests.conftest import ROOT, cut_csv


def test_the_first_day_is_the_first_full_window_or_the_first_on_from() -> None:
    prices = Prices([f"2020-01-{d:02d}" for d in range(1, 31)], [1.0] * 30, "Close")
    assert first_day(prices, 10, None) == 9 and first_day(prices, 10, "2020-01-20") == 19
    assert first_day(prices, 10, "2020-01-02") == 9  # not before a full window
    with pytest.raises(CsvError, match="nothing to replay"):
        first_day(prices, 40, None)
    with pytest.raises(ValueError):
        first_day(prices, 10, "the 20th")


def replay(server: str, csv: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "client", "replay", str(csv), "--url", server, *extra]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_a_replay_prints_the_series_live_calibration(server: str, tmp_path: Path) -> None:
    csv = cut_csv(tmp_path / "sp500.csv", 200, start=1000)
    done = replay(server, csv, "--series", "replayed sp500")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("replayed     sp500.csv: 141 windows") and "series       replayed sp500" in lines[1]
    assert lines[2] == "scored       140 days" and lines[3].startswith("80% interval  coverage ")
    rows = httpx.get(f"{server}/calibration", params={"series": "replayed sp500"}).json()["series"]
    assert [r["scored"] for r in rows] == [140]


def test_a_bad_from_date_is_one_line(server: str, tmp_path: Path) -> None:
    done = replay(server, cut_csv(tmp_path / "p.csv", 100), "--from", "soon")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
