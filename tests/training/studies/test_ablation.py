"""The ablation: the default and one change per row, and the committed report is what the code writes from its
numbers (reports/ablation.json)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.conftest import ROOT
from training.core.config import TrainConfig
from training.core.data import load_training_data
from training.studies import ablation_report, loo
from training.studies.ablation import merged, rows, saved_row, summarise, unmeasured


def changed(config: TrainConfig, default: TrainConfig) -> set[str]:
    base, other = asdict(default), asdict(config)
    found = {k for k in base if k != "model" and base[k] != other[k]}
    return found | {f"model.{k}" for k in base["model"] if base["model"][k] != other["model"][k]}


def test_the_default_comes_first_and_every_other_row_changes_one_thing() -> None:
    default = TrainConfig()
    found = rows(default)
    assert found[0].name == "default" and found[0].config == default
    assert len({row.name for row in found}) == len(found)
    assert [changed(row.config, default) for row in found[1:6]] == [
        {"model.reads"},
        {"model.reads"},
        {"model.reads"},
        {"model.window_table"},
        {"data"},
    ]
    for row in found[1:]:
        assert changed(row.config, default), f"{row.name} changes nothing"
        assert len(changed(row.config, default) - {"data", "simulated", "features", "model.features"}) <= 2


def test_the_committed_report_is_what_the_code_writes_from_its_numbers(tmp_path: Path) -> None:
    measured = json.loads((ROOT / "reports" / "ablation.json").read_text())
    ablation_report.write(tmp_path, measured, unmeasured(measured, TrainConfig()))
    assert (tmp_path / "ablation.md").read_text() == (ROOT / "reports" / "ablation.md").read_text()


def test_rows_measured_again_replace_their_own_and_keep_an_earlier_default_s() -> None:
    default = TrainConfig()
    names = [row.name for row in rows(default)]

    def m(name: str, protocol: str, minutes: float) -> dict:
        return {"name": name, "protocol": protocol, "minutes": minutes}

    old = [m("default", "before", 5), m(names[2], "now", 1), m("default", "now", 1)]
    found = merged(old, [m(names[2], "now", 2), m(names[1], "now", 3)], default)
    assert [(r["name"], r["protocol"], r["minutes"]) for r in found] == [
        ("default", "now", 1),
        (names[1], "now", 3),
        (names[2], "now", 2),
        ("default", "before", 5),
    ]
    assert unmeasured(found, default) == names[3:]


def test_the_default_s_row_read_from_the_leave_one_out_report_has_its_verdicts() -> None:
    universe = load_training_data(TrainConfig())
    outcome, minutes = saved_row(ROOT / "reports" / "loo.json", TrainConfig(), universe)
    row = summarise(rows(TrainConfig())[0], outcome, minutes, "now")
    data = json.loads((ROOT / "reports" / "loo.json").read_text())
    for n, found in data["lengths"].items():
        assert row["lengths"][n]["significant_losses"] == found["significant_losses"]
        assert row["lengths"][n]["wins_over_fhs_and_garch_t"] == found["wins_over_fhs_and_garch_t"]
    assert row["windows_per_second"] == data["settings"]["windows_per_second"] and minutes > 0
    assert set(row["lengths"]["60"]["series"][0]["dm"]) == set(loo.STRONGEST)


def test_a_leave_one_out_report_of_other_series_is_not_taken_for_the_default_s_row(tmp_path: Path) -> None:
    data = json.loads((ROOT / "reports" / "loo.json").read_text())
    for found in data["lengths"].values():
        found["series"] = found["series"][1:]  # one series fewer: another universe
    (tmp_path / "loo.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="not this row's protocol"):
        saved_row(tmp_path / "loo.json", TrainConfig(), load_training_data(TrainConfig()))


def test_a_leave_one_out_report_of_another_model_is_not_taken_for_a_row() -> None:
    reads_250 = next(row.config for row in rows(TrainConfig()) if row.name == "network reads 250")
    with pytest.raises(ValueError, match="not this row's model"):
        saved_row(ROOT / "reports" / "loo.json", reads_250, load_training_data(TrainConfig()))
