"""The training CLI: help text, exit codes and one-line errors, a full tiny run."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY
from training.__main__ import build_parser


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "training", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_help_documents_every_option() -> None:
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]  # the "train" subparser
    text = train.format_help()
    for action in train._actions:
        for flag in action.option_strings:
            assert flag in text
        if action.option_strings and action.dest != "help":
            assert action.help, f"{action.option_strings} has no help"
    for flag in (
        "--data",
        "--column",
        "--window",
        "--normalize",
        "--cell",
        "--layers",
        "--hidden",
        "--dropout",
        "--epochs",
        "--batch-size",
        "--lr",
        "--patience",
        "--seed",
        "--out",
    ):
        assert flag in text


def test_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Close\n2020-01-02,1\n2020-01-03,-5\n")
    result = run_cli("train", "--data", str(bad), "--out", str(tmp_path / "m"))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {bad}: row 3: column 'Close': '-5' is not a positive price"]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "m" / "CURRENT").exists()


@pytest.mark.parametrize("args", [["--column", "Nope"], ["--window", "400"]])
def test_unknown_column_or_too_short_exits_2(tmp_path: Path, sp500_small: Path, args: list[str]) -> None:
    result = run_cli("train", "--data", str(sp500_small), "--out", str(tmp_path), *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(sp500_small) in result.stderr or sp500_small.name in result.stderr


def test_tutorial_open_column_trains_and_publishes(tmp_path: Path) -> None:
    data = ROOT / "tests" / "data" / "Google_Stock_Price_Train.csv"
    result = run_cli("train", "--data", str(data), "--column", "Open", "--out", str(tmp_path), *TINY, "--force")
    assert result.returncode == 0, result.stderr
    version = (tmp_path / "CURRENT").read_text().strip()
    assert f"model {version} written to" in result.stdout
    assert "MAE ratio model/naive" in result.stdout
    assert sorted(p.name for p in (tmp_path / version).iterdir()) == [
        "calibration.png",
        "model.json",
        "model.onnx",
        "test_forecast.png",
        "weights.pt",
    ]
    assert not list(tmp_path.glob(".staging-*"))


@pytest.mark.parametrize("every", ["24", "1.5", " 24 "])
def test_retrain_every_without_a_unit_is_refused(tmp_path: Path, every: str) -> None:
    result = run_cli("retrain", "--registry", str(tmp_path), "--every", every)
    assert result.returncode == 2
    assert "has no unit; write it with one, e.g. 24h, 30m, 1d or 90s" in result.stderr
    assert not list(tmp_path.iterdir())  # nothing trained, nothing written


def test_retrain_every_below_an_hour_needs_its_own_flag(tmp_path: Path) -> None:
    result = run_cli("retrain", "--registry", str(tmp_path), "--every", "10m")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: --every 600s is shorter than 1h; each round may publish a new version and reload every replica. "
        "Use e.g. --every 24h, or add --allow-short-every"
    ]
    assert not list(tmp_path.iterdir())


def test_duration_units() -> None:
    from training.core.config import duration

    assert [duration(t) for t in ("90s", "30m", "24h", "1d", "2D")] == [90, 1800, 86400, 86400, 172800]


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
    assert card["metrics"]["test"]["days"] == 100 and card["calibration"]["validation_windows"] == 100


def test_help_starts_without_importing_torch() -> None:
    code = (
        "import sys\n"
        "from training.__main__ import main\n"
        "for argv in (['--help'], *([c, '--help'] for c in ('train', 'retrain', 'evaluate', 'export-triton'))):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('torch loaded:', any(m in sys.modules for m in ('torch', 'pandas', 'matplotlib')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "torch loaded: False"
    assert "usage:" in result.stdout and "--epochs" in result.stdout


def test_evaluate_help_says_which_data_file_is_scored() -> None:
    text = " ".join(build_parser()._subparsers._group_actions[0].choices["evaluate"].format_help().split())
    assert "Every --data file is pooled for training; the first one is the series scored" in text
    assert "With --leave-one-out, every --data file is scored instead" in text
