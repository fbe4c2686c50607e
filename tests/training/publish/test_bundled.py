"""The bundled default model: what the code's defaults train on the bundled data, installed without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.conftest import ROOT
from training.core.config import TrainConfig
from training.core.universe import load_universe, series_identity
from training.net.model import VolatilityFilter
from training.publish import registry
from training.publish.bundled import BUNDLED_MODEL, install_default
from training.publish.card import training_options
from training.scoring import gate

RETRAIN = (
    "the bundled model no longer matches the code's defaults: train it again (python -m training train --out "
    "training/bundled) and commit that version alone"
)
# Model options added after the bundled model was trained, with what it was trained as (before they existed, off)
ADDED_SINCE = {"network_fades": False}


def with_added(architecture: dict) -> dict:
    """A card's model options, those added since it was written filled in with the value it was trained as."""
    return {**{k: v for k, v in ADDED_SINCE.items() if k not in architecture}, **architecture}


def bundled_card() -> dict:
    version = registry.current_version(BUNDLED_MODEL)
    assert version is not None and (BUNDLED_MODEL / version / "model.onnx").is_file()
    assert registry.list_versions(BUNDLED_MODEL) == [version]  # one version, the one CURRENT names
    return json.loads((BUNDLED_MODEL / version / "model.json").read_text())


def test_the_bundled_card_is_the_code_default_configuration_on_the_bundled_data() -> None:
    card = bundled_card()
    config = TrainConfig()
    options = card["training"]["options"]
    assert {**options, "model": with_added(options["model"])} == json.loads(json.dumps(training_options(config))), (
        RETRAIN
    )
    assert with_added(card["architecture"]) == json.loads(
        json.dumps({k: v for k, v in asdict(config.model).items() if k != "quantiles"})
    ), RETRAIN
    trained_on = [series_identity(d["file"], d["sha256"]) for d in card["training"]["data"]]
    assert trained_on == [series_identity(s.source, s.target.sha256) for s in load_universe(config)], RETRAIN
    assert card["quality_gate"] == {"passed": True, "forced": False, "problems": [], "rules": gate.rules(60, 1000)}
    filters = VolatilityFilter(card["max_window"]).describe()
    assert card["volatility_filter"]["score"] == filters["score"], RETRAIN  # how the graph weighs its filters


def test_the_bundled_model_answers_its_golden_windows() -> None:
    card = bundled_card()
    session = ort.InferenceSession(
        str(BUNDLED_MODEL / card["version"] / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    lengths = sorted({len(g["window"]) for g in card["golden"]})
    assert lengths == [card["window"], 250, card["max_window"]]  # pinned at the shortest, a year's and the longest
    for n in lengths:
        golden = [g for g in card["golden"] if len(g["window"]) == n]
        forecast, _ = session.run(None, {"window": np.array([g["window"] for g in golden], dtype=np.float32)})
        np.testing.assert_allclose(forecast, [g["forecast"] for g in golden], rtol=1e-5)


def test_install_default_fills_an_empty_registry_once_and_leaves_a_served_one_alone(tmp_path: Path) -> None:
    version = bundled_card()["version"]
    out = tmp_path / "models"
    assert install_default(out) == version
    assert registry.current_version(out) == version
    for name in ("model.onnx", "model.json", "test_forecast.png", "calibration.png"):
        assert (out / version / name).read_bytes() == (BUNDLED_MODEL / version / name).read_bytes()
    assert [json.loads(line)["decision"] for line in (out / "history.jsonl").read_text().splitlines()] == ["published"]
    assert install_default(out) is None  # idempotent: nothing copied, no history line
    assert len((out / "history.jsonl").read_text().splitlines()) == 1
    assert not list(out.glob(".staging-*"))


def test_a_leftover_half_copy_is_replaced_and_a_missing_bundle_is_an_error(tmp_path: Path) -> None:
    version = bundled_card()["version"]
    out = tmp_path / "models"
    (out / version).mkdir(parents=True)
    (out / version / "model.json").write_text("{")  # an earlier copy that died half way
    assert install_default(out) == version
    assert (out / version / "model.onnx").is_file()
    with pytest.raises(FileNotFoundError, match="no bundled model"):
        install_default(tmp_path / "other", source=tmp_path / "empty")


def test_install_default_needs_no_torch_and_answers_from_the_command_line(tmp_path: Path) -> None:
    code = (
        "import sys; from training.__main__ import main; rc = main(['install-default', '--out', sys.argv[1]]); "
        "assert not {'torch', 'pandas', 'arch', 'scipy'} & set(sys.modules), sorted(sys.modules); sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "installed in" in result.stdout and (tmp_path / "m" / "CURRENT").is_file()
