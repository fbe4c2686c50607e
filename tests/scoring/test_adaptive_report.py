"""The adaptive-interval report of `make report`: a series replayed through the real service with FORECAST_ADAPT=aci,
scored from /calibration (checked against the answers), written as a table with the verdict on the targets."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.adaptive_report import main
from tests.conftest import cut_csv


def test_the_report_scores_adapted_and_model_intervals_of_a_replayed_series(tmp_path: Path) -> None:
    csv = cut_csv(tmp_path / "sp500.csv", 400, start=2000)
    assert main(["--data", str(csv), "--out", str(tmp_path)]) == 0
    found = json.loads((tmp_path / "adaptive.json").read_text())
    row = found["series"]["sp500.csv"]
    assert row["scored"] == 400 - 60 and row["unadjusted"]["scored"] == 340  # every window but the last scored
    assert row["rolling"]["windows"] == 340 - 249
    assert found["worst_inside_80"] == 1 - row["rolling"]["outside_band"]["0.8"]
    text = (tmp_path / "adaptive.md").read_text()
    ratio = row["pinball"]["mean"] / row["unadjusted"]["pinball"]["mean"]
    assert f"| sp500.csv | 340 | {row['coverage']['0.8']:.3f} / {row['unadjusted']['coverage']['0.8']:.3f} |" in text
    held = found["worst_inside_80"] >= 0.99 and ratio <= 1.005
    assert f"| {ratio:.4f} |" in text and text.count("both hold." if held else "NOT MET.") == 1
