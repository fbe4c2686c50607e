"""A tiny model trained end to end by the CLI: ONNX signature, metadata, parity, card, golden windows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from training.net.export import ExportError, check_parity, export_onnx
from training.net.model import LSTMConfig, PriceForecaster, StackedLSTM
from training.net.normalizers import WindowNormalizer


def output_shape(value: onnx.ValueInfoProto) -> list[str | int]:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def test_multi_day_outputs_have_fixed_sizes(fresh_models: dict[str, tuple[Path, list[str]]]) -> None:
    registry, (version,) = fresh_models["multi"]
    proto = onnx.load(str(registry / version / "model.onnx"))
    assert [output_shape(o) for o in proto.graph.output] == [["batch", 3], ["batch", 3, 5]]


def test_onnx_signature_and_metadata(version_dir: Path, sp500_small: Path) -> None:
    proto = onnx.load(str(version_dir / "model.onnx"))
    assert proto.opset_import[0].version >= 17
    (inp,), outs = proto.graph.input, proto.graph.output
    assert inp.name == "window"
    dims = inp.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_param == "length"  # dynamic batch and window length
    assert [o.name for o in outs] == ["forecast", "quantiles"]
    assert [output_shape(o) for o in outs] == [["batch"], ["batch", 5]]  # stable names, fixed sizes
    assert len(proto.graph.input) == 1  # no h0/c0 inputs
    meta = {p.key: p.value for p in proto.metadata_props}
    card = json.loads((version_dir / "model.json").read_text())
    assert meta["version"] == card["version"] == version_dir.name
    assert meta["window"] == meta["min_window"] == "60" and meta["max_window"] == "300"
    assert json.loads(meta["features"]) == ["close"]
    assert (card["min_window"], card["max_window"], card["inputs"]["window"]) == (60, 300, ["batch", "length"])
    assert json.loads(meta["quantiles"]) == [0.025, 0.1, 0.5, 0.9, 0.975]
    assert json.loads(meta["normalization"])["kind"] == "vol"
    assert (meta["cell"], meta["layers"], meta["hidden"]) == ("lstm", "2", "8")
    assert meta["data_file"] == sp500_small.name
    assert len(meta["data_sha256"]) == 64
    assert (meta["data_start"], meta["data_end"]) == ("1999-01-04", card["training"]["data_end"])
    assert set(json.loads(meta["metrics"])["test"]) >= {"model", "naive", "mae_ratio"}
    for key in ("created", "torch_version", "onnx_version"):
        assert meta[key]


def test_onnx_forecast_is_scale_invariant(version_dir: Path) -> None:
    session = ort.InferenceSession(str(version_dir / "model.onnx"))
    rng = np.random.default_rng(1)
    x = (1500 * np.exp(np.cumsum(rng.normal(0, 0.01, (16, 60)), axis=1))).astype(np.float32)
    base, base_q = session.run(None, {"window": x})
    for k in (0.001, 0.37, 12.0, 5000.0):
        scaled, scaled_q = session.run(None, {"window": (x * k).astype(np.float32)})
        np.testing.assert_allclose(scaled, base * k, rtol=1e-4)
        np.testing.assert_allclose(scaled_q, base_q * k, rtol=1e-4)


def test_onnx_graph_is_volatility_equivariant_and_finite_on_flat_windows(version_dir: Path) -> None:
    session = ort.InferenceSession(str(version_dir / "model.onnx"))
    moves = np.random.default_rng(3).normal(0, 0.01, (8, 59))

    def log_offsets(k: float) -> np.ndarray:
        path = np.concatenate([np.zeros((8, 1)), np.cumsum(moves * k, axis=1)], axis=1)
        window = (1500 * np.exp(path)).astype(np.float32)
        _, quantiles = session.run(None, {"window": window})
        return np.log(quantiles.astype(np.float64) / window[:, -1:])

    base = log_offsets(1.0)
    for k in (0.5, 2.0, 3.0):
        np.testing.assert_allclose(log_offsets(k), base * k, rtol=1e-3, atol=1e-6)
    flat = np.full((2, 60), 123.45, dtype=np.float32)
    forecast, quantiles = session.run(None, {"window": flat})
    assert np.isfinite(forecast).all() and np.isfinite(quantiles).all()
    np.testing.assert_allclose(quantiles, 123.45, rtol=1e-3)  # the 0.01%/day floor: a narrow, finite band


def test_parity_check_catches_a_mismatched_file(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = LSTMConfig(window=10, layers=1, hidden=4, head="free")  # what the window normalisation trains with
    model = PriceForecaster(WindowNormalizer(["ratio"], [0.01], [0.0]), StackedLSTM(config), True).eval()
    other = PriceForecaster(WindowNormalizer(["ratio"], [0.02], [0.0]), StackedLSTM(config), True).eval()
    path = tmp_path / "m.onnx"
    export_onnx(other, 10, path, {"version": "x"})
    windows = np.linspace(90, 110, 30).reshape(3, 10)
    with pytest.raises(ExportError, match="differs from torch"):
        check_parity(model, path, windows)
    export_onnx(model, 10, path, {"version": "x"})
    assert check_parity(model, path, windows) <= 1e-5


def test_golden_windows_pin_the_shortest_a_year_and_the_longest(version_dir: Path) -> None:
    card = json.loads((version_dir / "model.json").read_text())
    session = ort.InferenceSession(str(version_dir / "model.onnx"))
    assert sorted({len(g["window"]) for g in card["golden"]}) == [60, 250, 300]
    for golden in card["golden"]:
        forecast, quantiles = session.run(None, {"window": np.array([golden["window"]], dtype=np.float32)})
        np.testing.assert_allclose(forecast, golden["forecast"], rtol=1e-5)
        np.testing.assert_allclose(quantiles[0], golden["quantiles"], rtol=1e-5)
