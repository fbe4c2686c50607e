"""The frozen tiny models under tests/data/tiny: how our trainer makes them, and `make tiny-models` to redo it.

Service and reliability tests serve these committed files, so they run without torch installed;
tests/training/test_frozen.py trains them again and checks that the committed ones still match.
"""

from __future__ import annotations

import gzip
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FROZEN = ROOT / "tests" / "data" / "tiny"
BUNDLED = ROOT / "training" / "data"
SMALL_ROWS = 400  # 1999-2000: enough for 60-day windows, 50-day validation and test splits

TINY = [
    "--window",
    "60",
    "--max-window",
    "300",
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
    "--windows-per-epoch",
    "0",
    "--simulated",
    "0",
    "--no-progress",
    "--threads",
    "1",
]
MULTI = ["--horizon", "3", "--features", "close,volume,hl_range,nasdaq_close"]
# registry name -> one option list per version, in publishing order (CURRENT names the last)
SPECS: dict[str, list[list[str]]] = {
    "pair": [["--seed", "1"], ["--seed", "2", "--head", "free"]],  # two heads: answers that clearly differ
    "multi": [MULTI],
}
# What a server reads (the page shows the PNGs); the torch weights stay out of the repository.
SERVED_FILES = ("model.onnx", "model.json", "test_forecast.png", "calibration.png")


def cut_csv(source: Path, dest: Path, rows: int, start: int = 0) -> Path:
    """The header plus `rows` consecutive rows of a bundled .csv.gz file."""
    lines = gzip.decompress(source.read_bytes()).decode().splitlines()
    dest.write_text("\n".join([lines[0], *lines[1 + start : 1 + start + rows]]) + "\n")
    return dest


def small_data(work: Path) -> tuple[Path, Path]:
    """The first 400 trading days of the bundled S&P 500 and NASDAQ files, as sp500_small.csv, nasdaq_small.csv."""
    sp500 = cut_csv(BUNDLED / "sp500.csv.gz", work / "sp500_small.csv", SMALL_ROWS)
    nasdaq = cut_csv(BUNDLED / "nasdaq.csv.gz", work / "nasdaq_small.csv", SMALL_ROWS)
    return sp500, nasdaq


def train_tiny(registry: Path, data: Path, *extra: str) -> str:
    """Trains a tiny model with the real CLI into `registry` and returns the version it published.

    --force: a 2-epoch model is not meant to pass the quality gate (tested on its own).
    """
    from training.__main__ import main as training_main

    argv = ["train", "--data", str(data), "--out", str(registry), *TINY, "--force", *extra]
    if training_main(argv) != 0:
        raise RuntimeError(f"training failed: {argv}")
    return (registry / "CURRENT").read_text().strip()


def train_registry(name: str, dest: Path, work: Path) -> list[str]:
    """Trains one SPECS registry into `dest`; returns its versions in publishing order."""
    sp500, nasdaq = small_data(work)
    extras = ["--extra", f"nasdaq={nasdaq}"]
    return [train_tiny(dest, sp500, *extra, *(extras if "--features" in extra else [])) for extra in SPECS[name]]


def freeze(dest: Path = FROZEN) -> None:
    """Retrains every SPECS registry and writes only what a server reads (SERVED_FILES, CURRENT)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in SPECS:
            trained = work / name
            versions = train_registry(name, trained, work)
            shutil.rmtree(dest / name, ignore_errors=True)
            for version in versions:
                (dest / name / version).mkdir(parents=True)
                for file in SERVED_FILES:
                    shutil.copyfile(trained / version / file, dest / name / version / file)
            (dest / name / "CURRENT").write_text(versions[-1] + "\n")
            print(f"{dest / name}: {', '.join(versions)}")


def golden_groups(card: dict) -> list[list[dict]]:
    """A card's golden windows grouped by length (a model of a range of lengths pins several), shortest first."""
    lengths = sorted({len(g["window"]) for g in card["golden"]})
    return [[g for g in card["golden"] if len(g["window"]) == n] for n in lengths]


def frozen_versions(name: str) -> list[str]:
    """The committed versions of one frozen registry, in publishing order (their names sort by time)."""
    return sorted(p.name for p in (FROZEN / name).iterdir() if p.is_dir())


if __name__ == "__main__":
    freeze(Path(sys.argv[1]) if len(sys.argv) > 1 else FROZEN)
