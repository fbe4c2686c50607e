"""python -m client forecast: the next day's forecast for a CSV, one line for a bad file or an unreachable server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, TEST_DATA
from tests.live_server import free_port
from training.core.csvfile import load_csv

GOOGLE = TEST_DATA / "Google_Stock_Price_Train.csv"


def run_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "client", "forecast", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


@pytest.mark.parametrize("csv", [GOOGLE, ROOT / "training" / "data" / "sp500.csv.gz"], ids=["csv", "csv.gz"])
def test_the_command_prints_the_forecast_of_a_csv(server: str, csv: Path) -> None:
    series = load_csv(csv)  # the trainer's reading of the same file
    n = httpx.get(f"{server}/model").json()["max_window"]  # the command posts all the model reads
    body = {"window": series.prices[-n:].tolist(), "dates": series.dates[-n:].astype(str).tolist()}
    raw = httpx.post(f"{server}/predict", json=body).json()
    result = run_command(str(csv), "--url", server)
    assert result.returncode == 0, result.stderr
    lines = dict(
        line.split(None, 1) if not line.startswith(("forecast for", "80%", "95%")) else (line[:14].strip(), line[14:])
        for line in result.stdout.splitlines()
    )
    assert lines["median"] == f"{raw['forecast']:,.2f}"
    assert lines["forecast for"] == raw["forecast_date"]
    assert lines["80% interval"] == f"{raw['quantiles']['0.1']:,.2f} .. {raw['quantiles']['0.9']:,.2f}"
    as_json = run_command(str(csv), "--url", server, "--json")
    assert '"forecast": ' + repr(raw["forecast"]) in as_json.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Date,Close\n2020-01-02,10\n", "prices; the model needs the last 60"),
        ("Date,Close\n2020-01-02,10\n2020-01-03,ten\n", "row 3: column 'Close': 'ten' is not a number"),
        (
            "Date,Close\n" + "".join(f"2020-03-{d:02d},10\n" for d in range(1, 29)) + "2020-03-30,inf\n",
            "row 30: column 'Close': 'inf' is not a positive price",
        ),
        ("Date,Open,High\n2020-01-02,10,11\n", "no 'Adj Close' or 'Close' column"),
        (b"\x1f\x8b\x08\x00 not really gzip", "not a valid gzip file"),
    ],
)
def test_the_command_refuses_a_bad_file_in_one_line(
    server: str, tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = run_command(str(path), "--url", server)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr


def test_the_command_says_when_the_server_is_unreachable() -> None:
    result = run_command(str(GOOGLE), "--url", f"http://127.0.0.1:{free_port()}")
    assert (
        result.returncode == 1 and result.stderr.startswith("error: cannot reach") and "Traceback" not in result.stderr
    )
