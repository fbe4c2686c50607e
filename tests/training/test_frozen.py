"""The committed frozen tiny models are what our trainer writes today (else: `make tiny-models`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from tests import frozen

# Written at training time; everything else in the card follows from the data, the options and the seed.
VOLATILE = ("created", "version", "onnx_sha256")
REGENERATE = "the committed frozen model no longer matches the trainer; run `make tiny-models` and commit"


def contract(card: dict) -> dict:
    return {k: v for k, v in card.items() if k not in VOLATILE}


@pytest.mark.parametrize("name", sorted(frozen.SPECS))
def test_frozen_registry_matches_a_fresh_training(name: str, fresh_models: dict[str, tuple[Path, list[str]]]) -> None:
    fresh, fresh_versions = fresh_models[name]
    committed = frozen.frozen_versions(name)
    assert len(committed) == len(fresh_versions), REGENERATE
    assert (frozen.FROZEN / name / "CURRENT").read_text().strip() == committed[-1]
    for old, new in zip(committed, fresh_versions, strict=True):
        assert old.split("-")[-1] == new.split("-")[-1], f"{old} vs {new}: weights differ; {REGENERATE}"
        old_card = json.loads((frozen.FROZEN / name / old / "model.json").read_text())
        new_card = json.loads((fresh / new / "model.json").read_text())
        assert contract(old_card) == contract(new_card), REGENERATE
        old_graph = onnx.load(str(frozen.FROZEN / name / old / "model.onnx")).graph
        new_graph = onnx.load(str(fresh / new / "model.onnx")).graph
        assert old_graph.SerializeToString() == new_graph.SerializeToString(), REGENERATE
        for png in ("test_forecast.png", "calibration.png"):
            assert (frozen.FROZEN / name / old / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", sorted(frozen.SPECS))
def test_frozen_models_answer_their_golden_windows(name: str) -> None:
    for version in frozen.frozen_versions(name):
        card = json.loads((frozen.FROZEN / name / version / "model.json").read_text())
        session = ort.InferenceSession(str(frozen.FROZEN / name / version / "model.onnx"))
        windows = np.array([g["window"] for g in card["golden"]], dtype=np.float32)
        forecast, _ = session.run(None, {"window": windows})
        np.testing.assert_allclose(forecast, [g["forecast"] for g in card["golden"]], rtol=1e-5)
        meta = {p.key: p.value for p in onnx.load(str(frozen.FROZEN / name / version / "model.onnx")).metadata_props}
        assert meta["version"] == version
