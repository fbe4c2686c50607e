"""Building a version: train, score, export, verify, publish; refused by the gate unless forced."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY
from tests.training.test_main import run_cli


@pytest.mark.parametrize("same_path", [False, True], ids=["a copy", "the same path"])
def test_the_same_file_twice_is_refused_naming_both(tmp_path: Path, sp500_small: Path, same_path: bool) -> None:
    copy = sp500_small if same_path else tmp_path / "copy.csv"
    if not same_path:
        copy.write_bytes(sp500_small.read_bytes())
    out = tmp_path / "m"
    result = run_cli("train", "--data", str(sp500_small), "--data", str(copy), "--out", str(out))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"--data {sp500_small} and --data {copy}" in errors[0]
    assert "give each series once" in errors[0] and ("given twice" in errors[0]) == same_path
    assert not out.exists()  # refused before anything was made


def test_a_model_failing_the_gate_is_not_published_unless_forced(tmp_path: Path, sp500_small: Path) -> None:
    never_learns = ["--lr", "0", "--normalize", "minmax"]  # random weights on a global min-max scale
    result = run_cli("train", "--data", str(sp500_small), "--out", str(tmp_path / "new"), *TINY, *never_learns)
    assert result.returncode == 1
    assert "error: quality gate failed, nothing published (--force overrides):" in result.stderr
    assert "rejected by Kupiec" in result.stderr and "GARCH(1,1)-t" in result.stdout
    assert not (tmp_path / "new").exists()  # a registry this run made, with nothing in it, is gone again
    result = run_cli("train", "--data", str(sp500_small), "--out", str(tmp_path), *TINY, *never_learns)
    assert result.returncode == 1 and tmp_path.is_dir()  # one that was there stays
    assert not (tmp_path / "CURRENT").exists() and not list(tmp_path.glob("2*"))
    forced = run_cli("train", "--data", str(sp500_small), "--out", str(tmp_path), *TINY, *never_learns, "--force")
    assert forced.returncode == 0
    version = (tmp_path / "CURRENT").read_text().strip()
    card = json.loads((tmp_path / version / "model.json").read_text())
    assert card["quality_gate"]["forced"] and not card["quality_gate"]["passed"]
    record = json.loads((tmp_path / "history.jsonl").read_text().splitlines()[-1])
    assert record["decision"] == "published" and record["forced"] and record["version"] == version


def test_two_series_train_one_model_with_both_files_in_the_card(tmp_path: Path, sp500_small: Path) -> None:
    nasdaq = tmp_path / "nasdaq.csv"
    lines = gzip.decompress((ROOT / "training" / "data" / "nasdaq.csv.gz").read_bytes()).decode().splitlines()
    nasdaq.write_text("\n".join(lines[:401]) + "\n")
    out = tmp_path / "m"
    result = run_cli("train", "--data", str(sp500_small), "--data", str(nasdaq), "--out", str(out), *TINY, "--force")
    assert result.returncode == 0, result.stderr
    assert "quality gate on the test split (100 days)" in result.stdout  # 50 newest days of each series
    card = json.loads((out / (out / "CURRENT").read_text().strip() / "model.json").read_text())
    files = card["training"]["data"]
    assert [f["file"] for f in files] == ["sp500_small.csv", "nasdaq.csv"]
    assert all(len(f["sha256"]) == 64 and f["start"] < f["test_start"] < f["end"] for f in files)
    assert card["metrics"]["test"]["days"] == 100
    assert card["calibration"]["validation_windows"] == 3 * 100  # at 60, 250 and 300 prices
