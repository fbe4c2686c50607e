"""The ablation: the default and one change per row, and the committed report is what the code writes from its
numbers (reports/ablation.json)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from tests.conftest import ROOT
from training.core.config import TrainConfig
from training.studies.ablation import rows, write


def changed(config: TrainConfig, default: TrainConfig) -> set[str]:
    base, other = asdict(default), asdict(config)
    found = {k for k in base if k != "model" and base[k] != other[k]}
    return found | {f"model.{k}" for k in base["model"] if base["model"][k] != other["model"][k]}


def test_the_default_comes_first_and_every_other_row_changes_one_thing() -> None:
    default = TrainConfig()
    found = rows(default)
    assert found[0].name == "default" and found[0].config == default
    assert len({row.name for row in found}) == len(found)
    assert changed(found[3].config, default) == {"model.window"}  # "window 120": one option
    for row in found[1:]:
        assert changed(row.config, default), f"{row.name} changes nothing"
        assert len(changed(row.config, default) - {"data", "simulated", "features", "model.features"}) <= 2


def test_the_committed_report_is_what_the_code_writes_from_its_numbers(tmp_path: Path) -> None:
    measured = json.loads((ROOT / "reports" / "ablation.json").read_text())
    write(tmp_path, measured)
    assert (tmp_path / "ablation.md").read_text() == (ROOT / "reports" / "ablation.md").read_text()
