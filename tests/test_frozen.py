"""The committed frozen tiny models (tests/frozen.py) are what our trainer writes today (else: `make tiny-models`).

Training is bit-for-bit reproducible only on the same kind of CPU: torch's and numpy's vectorised kernels round the
last bits differently with and without AVX-512, and two epochs carry that into the weights (about 1e-7 of a
forecast). So a fresh training is held to the committed one within a tolerance everywhere, and to the very bytes
only where its weights came out identical, i.e. where determinism holds.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from tests import frozen

# Written at training time, or a measure of rounding itself (onnxruntime against torch); everything else in the
# card follows from the data, the options and the seed.
VOLATILE = ("created", "version", "onnx_sha256", "parity_max_rel_diff")
REGENERATE = "the committed frozen model no longer matches the trainer; run `make tiny-models` and commit"
RELATIVE = 1e-3  # a card's numbers and the graph's weights: far above CPU rounding, far below any real change
OUTPUTS = 1e-4  # the forecasts of the golden windows (measured across CPUs: under 2e-7)
NUMBER = re.compile(r"-?\d+\.?\d*(e[+-]?\d+)?")


def contract(card: dict) -> dict:
    return {k: v for k, v in card.items() if k not in VOLATILE}


def differences(old: object, new: object, where: str = "card") -> list[str]:
    """Where two cards differ beyond rounding: numbers within RELATIVE, texts alike but for their numbers."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return [d for k in keys for d in differences(old.get(k), new.get(k), f"{where}.{k}")]
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{where}: {len(old)} items vs {len(new)}"]
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True)) for d in differences(a, b, f"{where}[{i}]")]
    if isinstance(old, bool) or isinstance(new, bool) or not isinstance(old, int | float | str):
        return [] if old == new else [f"{where}: {old!r} vs {new!r}"]
    if isinstance(old, str) and isinstance(new, str):  # e.g. the gate's reasons, with their p-values written out
        same = NUMBER.sub("#", old) == NUMBER.sub("#", new)
        return [] if same else [f"{where}: {old!r} vs {new!r}"]
    if isinstance(new, int | float) and math.isclose(old, new, rel_tol=RELATIVE, abs_tol=1e-9):  # type: ignore[arg-type]
        return []
    return [f"{where}: {old!r} vs {new!r}"]


def weights(path: Path) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def graph_differences(old: Path, new: Path) -> list[str]:
    """The same operators in the same order, the same weights by name and shape, within RELATIVE."""
    old_graph, new_graph = onnx.load(str(old)).graph, onnx.load(str(new)).graph
    if [n.op_type for n in old_graph.node] != [n.op_type for n in new_graph.node]:
        return ["the graphs' operators differ"]
    a, b = weights(old), weights(new)
    if {k: v.shape for k, v in a.items()} != {k: v.shape for k, v in b.items()}:
        return ["the graphs' weights differ in name or shape"]
    return [k for k in a if not np.allclose(a[k], b[k], rtol=RELATIVE, atol=1e-6)]


def without_volatile_metadata(path: Path) -> bytes:
    """The graph's bytes with the metadata a training writes afresh (its version name, its time) taken out."""
    proto = onnx.load(str(path))
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key not in VOLATILE]
    del proto.metadata_props[:]
    for key, value in kept:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto.SerializeToString()


def golden_forecasts(model: Path, card: dict) -> np.ndarray:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    runs = [
        session.run(None, {"window": np.array([g["window"] for g in group], dtype=np.float32)})[1]
        for group in frozen.golden_groups(card)
    ]
    return np.concatenate(runs)


@pytest.mark.parametrize("name", sorted(frozen.SPECS))
def test_frozen_registry_matches_a_fresh_training(name: str, fresh_models: dict[str, tuple[Path, list[str]]]) -> None:
    fresh, fresh_versions = fresh_models[name]
    committed = frozen.frozen_versions(name)
    assert len(committed) == len(fresh_versions), REGENERATE
    assert (frozen.FROZEN / name / "CURRENT").read_text().strip() == committed[-1]
    for old, new in zip(committed, fresh_versions, strict=True):
        old_card = json.loads((frozen.FROZEN / name / old / "model.json").read_text())
        new_card = json.loads((fresh / new / "model.json").read_text())
        assert not differences(contract(old_card), contract(new_card)), (
            f"{differences(old_card, new_card)}; {REGENERATE}"
        )
        old_onnx, new_onnx = frozen.FROZEN / name / old / "model.onnx", fresh / new / "model.onnx"
        assert not graph_differences(old_onnx, new_onnx), f"{graph_differences(old_onnx, new_onnx)}; {REGENERATE}"
        np.testing.assert_allclose(
            golden_forecasts(new_onnx, old_card), golden_forecasts(old_onnx, old_card), rtol=OUTPUTS, err_msg=REGENERATE
        )
        if old.split("-")[-1] == new.split("-")[-1]:  # the same weights to the bit: determinism holds here
            assert without_volatile_metadata(old_onnx) == without_volatile_metadata(new_onnx), REGENERATE
        for png in ("test_forecast.png", "calibration.png"):
            assert (frozen.FROZEN / name / old / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_tolerance_still_sees_a_real_change() -> None:
    card = {"window": 60, "calibration": {"factors": [1.2, 0.9]}, "quality_gate": {"problems": ["p = 0.012 < 0.05"]}}
    rounded = json.loads(json.dumps(card).replace("1.2,", "1.2000001,").replace("0.012", "0.0120000003"))
    assert differences(card, rounded) == []
    assert differences(card, {**card, "window": 61}) == ["card.window: 60 vs 61"]
    assert differences(card, {**card, "calibration": {"factors": [1.21, 0.9]}}) == [
        "card.calibration.factors[0]: 1.2 vs 1.21"
    ]
    assert differences(card, {**card, "quality_gate": {"problems": ["pinball 1.1x"]}}) != []


@pytest.mark.parametrize("name", sorted(frozen.SPECS))
def test_frozen_models_answer_their_golden_windows(name: str) -> None:
    for version in frozen.frozen_versions(name):
        card = json.loads((frozen.FROZEN / name / version / "model.json").read_text())
        session = ort.InferenceSession(str(frozen.FROZEN / name / version / "model.onnx"))
        for golden in frozen.golden_groups(card):
            forecast, _ = session.run(None, {"window": np.array([g["window"] for g in golden], dtype=np.float32)})
            np.testing.assert_allclose(forecast, [g["forecast"] for g in golden], rtol=1e-5)
        meta = {p.key: p.value for p in onnx.load(str(frozen.FROZEN / name / version / "model.onnx")).metadata_props}
        assert meta["version"] == version
