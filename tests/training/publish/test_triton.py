"""export-triton writes a repository whose config.pbtxt parses with Triton's own ModelConfig protobuf."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from training.__main__ import main as training_main


def parse(path: Path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


@pytest.mark.parametrize("cpu", [False, True])
def test_config_parses_with_the_real_protobuf(tmp_path: Path, model_pair: tuple[Path, str, str], cpu: bool) -> None:
    registry, _, version = model_pair
    args = ["export-triton", "--registry", str(registry), "--out", str(tmp_path), "--max-batch", "512"]
    assert training_main([*args, "--cpu"] if cpu else args) == 0
    config = parse(tmp_path / "lstm-forecast" / "config.pbtxt")
    assert config.name == "lstm-forecast" and config.platform == "onnxruntime_onnx"
    assert config.max_batch_size == 512
    assert [(i.name, list(i.dims)) for i in config.input] == [("window", [-1])]  # any length from 60 to 300
    outputs = {o.name: o for o in config.output}
    assert list(outputs["forecast"].dims) == [1] and list(outputs["forecast"].reshape.shape) == []
    assert list(outputs["quantiles"].dims) == [5]
    assert list(config.dynamic_batching.preferred_batch_size) == [16, 64, 256]
    assert config.dynamic_batching.max_queue_delay_microseconds == 2000
    kind = model_config_pb2.ModelInstanceGroup.KIND_CPU if cpu else model_config_pb2.ModelInstanceGroup.KIND_GPU
    assert config.instance_group[0].kind == kind
    assert config.parameters["lstm_forecast_version"].string_value == version
    onnx_copy = tmp_path / "lstm-forecast" / "1" / "model.onnx"
    assert onnx_copy.read_bytes() == (registry / version / "model.onnx").read_bytes()


def test_multi_day_multi_feature_dims(tmp_path: Path, multi_model: tuple[Path, str]) -> None:
    registry, _ = multi_model
    assert training_main(["export-triton", "--registry", str(registry), "--out", str(tmp_path)]) == 0
    config = parse(tmp_path / "lstm-forecast" / "config.pbtxt")
    assert list(config.input[0].dims) == [-1, 4]
    assert [list(o.dims) for o in config.output] == [[3], [3, 5]]


def test_unknown_version_is_a_clear_error(tmp_path: Path, model_pair: tuple[Path, str, str]) -> None:
    args = ["export-triton", "--registry", str(model_pair[0]), "--out", str(tmp_path), "--version", "nope"]
    assert training_main(args) == 2


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such registry directory; train one (train --out) or pass --registry"),
        ("empty", "no current version (no CURRENT file); pass --version or train one"),
        ("unknown", "no such version 'nope'; it has "),
    ],
)
def test_a_missing_registry_or_version_is_named(
    tmp_path: Path, model_pair: tuple[Path, str, str], capsys: pytest.CaptureFixture[str], case: str, message: str
) -> None:
    registry = {"missing": tmp_path / "none", "empty": tmp_path, "unknown": model_pair[0]}[case]
    extra = ["--version", "nope"] if case == "unknown" else []
    assert training_main(["export-triton", "--registry", str(registry), "--out", str(tmp_path / "t"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "None" not in err
    if case == "unknown":
        assert model_pair[1] in err and model_pair[2] in err  # the versions it does have


def test_a_fixed_window_model_keeps_its_fixed_dimension(tmp_path: Path) -> None:
    registry = Path(__file__).resolve().parents[3] / "tests" / "data" / "fixed_window"
    assert training_main(["export-triton", "--registry", str(registry), "--out", str(tmp_path)]) == 0
    config = parse(tmp_path / "lstm-forecast" / "config.pbtxt")
    assert [(i.name, list(i.dims)) for i in config.input] == [("window", [60])]
