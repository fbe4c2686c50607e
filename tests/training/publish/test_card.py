"""The model card and the ONNX metadata: history, golden windows, scores next to naive and the simple methods."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.frozen import golden_groups


def test_model_card_has_history_golden_and_naive_scores(version_dir: Path) -> None:
    card = json.loads((version_dir / "model.json").read_text())
    assert len(card["history"]) == 2 and {"train_loss", "val_loss"} <= set(card["history"][0])
    assert card["parity_max_rel_diff"] <= 1e-5
    scores = card["metrics"]["test"]
    assert scores["days"] == 50
    assert scores["naive"]["mae"] > 0 and scores["model"]["mae"] > 0
    assert scores["mae_ratio"] == pytest.approx(scores["model"]["mae"] / scores["naive"]["mae"])
    session = ort.InferenceSession(str(version_dir / "model.onnx"))
    for golden in golden_groups(card):
        windows = np.array([g["window"] for g in golden], dtype=np.float32)
        got, quantiles = session.run(None, {"window": windows})
        np.testing.assert_allclose(got, [g["forecast"] for g in golden], rtol=1e-5)
        np.testing.assert_allclose(quantiles, [g["quantiles"] for g in golden], rtol=1e-5)
        assert np.all(np.diff(quantiles, axis=1) >= 0)
    assert set(card["interval_coverage"]) == {"80", "95"}
    assert (version_dir / "test_forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_card_scores_and_gates_the_shortest_and_the_longest_window(version_dir: Path) -> None:
    card = json.loads((version_dir / "model.json").read_text())
    longest = card["metrics"]["test_longest"]
    assert longest["window"] == card["max_window"] == 300 and longest["days"] == card["metrics"]["test"]["days"]
    assert longest["model"]["intervals"]["pinball_pct"] != card["metrics"]["test"]["model"]["intervals"]["pinball_pct"]
    assert [row["series"] for row in longest["per_series"]] == [
        row["series"] for row in card["metrics"]["test"]["per_series"]
    ]
    rules = card["quality_gate"]["rules"]
    assert [rule.split(":")[0] for rule in rules] == ["300 prices", "60 prices"]
    assert all(p.startswith(("at 300 prices: ", "at 60 prices: ")) for p in card["quality_gate"]["problems"])
