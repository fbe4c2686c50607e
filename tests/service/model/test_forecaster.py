"""Loading a version: providers, signature and metadata checks, golden check, refusal reasons."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from service.errors import ModelError
from service.model.forecaster import load_forecaster
from service.model.sessions import CPU, SessionConfig
from tests.frozen import golden_groups

CONFIG = SessionConfig("cpu", 1)


def test_loads_a_real_version(model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    model = load_forecaster(registry / version, version, CONFIG)
    assert model.window == 60 and model.providers == [CPU]
    golden = golden_groups(model.card)[-1]  # the longest windows the model reads
    assert len(golden[0]["window"]) == model.max_window == 300
    out, quantiles = model.predict(np.array([g["window"] for g in golden], dtype=np.float32))
    assert out.shape == (len(golden), 1) and quantiles.shape == (len(golden), 1, 5)
    np.testing.assert_allclose(out[:, 0], [g["forecast"] for g in golden], rtol=1e-5)
    np.testing.assert_allclose(quantiles[:, 0], [g["quantiles"] for g in golden], rtol=1e-5)
    card = model.describe()
    assert card["version"] == version and card["execution_providers"] == [CPU]
    assert "golden" not in card and "history" not in card


def edit_card(directory: Path, change: dict) -> None:
    card = json.loads((directory / "model.json").read_text())
    card.update(change)
    (directory / "model.json").write_text(json.dumps(card))


def set_metadata(directory: Path, key: str, value: str) -> None:
    proto = onnx.load(str(directory / "model.onnx"))
    for entry in proto.metadata_props:
        if entry.key == key:
            entry.value = value
    onnx.save(proto, str(directory / "model.onnx"))


def edit_graph(directory: Path, change: object) -> None:
    proto = onnx.load(str(directory / "model.onnx"))
    change(proto)  # type: ignore[operator]
    onnx.save(proto, str(directory / "model.onnx"))


def rename_input(proto: onnx.ModelProto) -> None:
    for node in proto.graph.node:
        node.input[:] = ["prices" if name == "window" else name for name in node.input]
    proto.graph.input[0].name = "prices"


def shorten_window(proto: onnx.ModelProto) -> None:
    proto.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 30


def truncate(directory: Path) -> None:
    data = (directory / "model.onnx").read_bytes()
    (directory / "model.onnx").write_bytes(data[: len(data) // 2])


def random_bytes(directory: Path) -> None:
    (directory / "model.onnx").write_bytes(np.random.default_rng(0).bytes(4096))


def wrong_golden(directory: Path) -> None:
    card = json.loads((directory / "model.json").read_text())
    card["golden"][0]["forecast"] *= 1.01
    (directory / "model.json").write_text(json.dumps(card))


CORRUPTIONS = {
    "truncated onnx": (truncate, "onnxruntime cannot load model.onnx"),
    "random bytes": (random_bytes, "onnxruntime cannot load model.onnx"),
    "missing onnx": (lambda d: (d / "model.onnx").unlink(), "model.onnx is missing"),
    "missing card": (lambda d: (d / "model.json").unlink(), "model.json is missing"),
    "card not json": (lambda d: (d / "model.json").write_text("{"), "model.json is not valid JSON"),
    "card version": (lambda d: edit_card(d, {"version": "other"}), "model.json names version 'other'"),
    "card window": (lambda d: edit_card(d, {"window": 59, "min_window": 59}), "metadata window '60' differs"),
    "card range": (lambda d: edit_card(d, {"max_window": 59}), "window range is not valid: min_window 60 must equal"),
    "card max_window": (lambda d: edit_card(d, {"max_window": 500}), "metadata max_window '300' differs"),
    "no golden": (lambda d: edit_card(d, {"golden": []}), "no golden reference windows"),
    "golden mismatch": (wrong_golden, "golden check failed"),
    "onnx version": (lambda d: set_metadata(d, "version", "x"), "ONNX metadata names version 'x'"),
    "renamed input": (lambda d: edit_graph(d, rename_input), "expected one float input 'window'"),
    "wrong window": (lambda d: edit_graph(d, shorten_window), r"shape|cannot load"),
    "format major 2": (
        lambda d: edit_card(d, {"format": "lstm-forecast/2"}),
        r"format 'lstm-forecast/2' is major version 2; this service reads lstm-forecast/1",
    ),
    "foreign format": (lambda d: edit_card(d, {"format": "sklearn/1"}), "is not a lstm-forecast model card"),
    "bad feature kinds": (
        lambda d: edit_card(d, {"normalization": {"kind": "vol", "feature_kinds": ["price"]}}),
        r"feature_kinds must list one of \('ratio', 'volume', 'level'\) per feature",
    ),
    "kinds missing for features": (
        lambda d: edit_card(d, {"features": ["close", "volume"], "normalization": {"kind": "window"}}),
        "feature_kinds must list one of",
    ),
}


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_corrupt_versions_are_refused(tmp_path: Path, model_pair: tuple[Path, str, str], name: str) -> None:
    registry, _, version = model_pair
    directory = tmp_path / version
    shutil.copytree(registry / version, directory)
    damage, message = CORRUPTIONS[name]
    damage(directory)
    with pytest.raises(ModelError, match=message):
        load_forecaster(directory, version, CONFIG)
