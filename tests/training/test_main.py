"""The training CLI: help text, exit codes and one-line errors, a full tiny run."""

from __future__ import annotations

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


def test_duration_units() -> None:
    from training.core.options import duration

    assert [duration(t) for t in ("90s", "30m", "24h", "1d", "2D")] == [90, 1800, 86400, 86400, 172800]


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


BLOCKER = """
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Missing())
from training.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("blocked", "argv", "named"),
    [
        (("onnx", "torch"), ["train", "--out", "{tmp}/models"], "torch"),
        (("arch",), ["retrain", "--registry", "{tmp}/models", "--new-registry"], "arch"),
    ],
)
def test_a_command_without_the_trainers_packages_says_which_make_target_installs_them(
    tmp_path: Path, blocked: tuple[str, ...], argv: list[str], named: str
) -> None:
    """As after `make serve`, whose venv has the service's packages only (simulated by refusing those imports)."""
    script = tmp_path / "without.py"
    script.write_text(BLOCKER.format(blocked=set(blocked)))
    args = [a.format(tmp=tmp_path) for a in argv]
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert f"needs the trainer's packages, and {named} is not installed here: run `make install`" in line


@pytest.mark.parametrize(
    ("value", "said"), [("nasdaq", "'nasdaq': expected NAME=PATH"), ("NASDAQ=x.csv", "lower-case")]
)
def test_a_bad_extra_is_one_line_and_exit_2(tmp_path: Path, value: str, said: str) -> None:
    result = run_cli("train", "--extra", value, "--out", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("python -m training train: error: argument --extra: ")
    assert said in result.stderr


def test_every_help_that_names_the_gate_names_all_of_it() -> None:
    choices = build_parser()._subparsers._group_actions[0].choices
    texts = [" ".join(choices[name].format_help().split()) for name in ("train", "retrain")]
    gate_options = [t.split(flag, 1)[1][:700] for t, flag in ((texts[0], "--force "), (texts[1], "--no-gate "))]
    for text in [*gate_options, texts[1].split("options:")[0]]:
        for rule in ("Kupiec", "FHS", "GARCH(1,1)-t", "GJR-GARCH-skew-t", "Holm", "1.02x GARCH-t's", "naive"):
            assert rule in text, f"{rule!r} missing from: {text[:200]}"
