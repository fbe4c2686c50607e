"""The leave-one-asset-out report: the generated blocks are what the code makes of the committed numbers."""

from __future__ import annotations

import json
from dataclasses import replace

from tests.conftest import ROOT
from training.core.config import TrainConfig
from training.studies import ablation, ablation_report, loo, loo_report
from training.studies.readme import markers


def test_the_readme_blocks_are_what_the_code_makes_of_the_committed_reports() -> None:
    readme = (ROOT / "docs" / "model.md").read_text()
    data = json.loads((ROOT / "reports" / "loo.json").read_text())
    found = {k: data[k] for k in ("significant_losses", "wins", "wins_over_fhs_and_garch_t", "coverage_outside")}
    start, end = markers("loo")
    short = data["lengths"][min(data["lengths"], key=int)]["series"]
    assert "\n".join([start, *loo_report.readme_block(data["series"], found, "loo", short), end]) in readme
    assert loo.verdicts(data["series"]) == found  # the verdicts follow from the rows
    measured = json.loads((ROOT / "reports" / "ablation.json").read_text())
    start, end = markers("ablation")
    missing = ablation.unmeasured(measured, TrainConfig())
    assert "\n".join([start, *ablation_report.readme_block(measured, missing), end]) in readme
    now = {m["name"] for m in ablation_report.current(measured)}
    assert measured[0]["name"] == "default" and now <= {r.name for r in ablation.rows(TrainConfig())}


def test_the_short_window_gate_reads_losses_to_its_readers_and_the_margin_to_the_garchs() -> None:
    def row(name: str, family: tuple[float, float], garch_ratio: float) -> dict:
        dm = {o: {"statistic": -1.0, "p_holm": 0.5} for o in loo.STRONGEST}
        dm[loo.FAMILY] = {"statistic": family[0], "p_holm": family[1]}
        ratio = {loo.holdout.GARCH_T: garch_ratio, loo.holdout.GJR: 1.0, loo.holdout.FHS: 1.0, loo.FAMILY: 1.0}
        return {"series": name, "dm": dm, "ratio": ratio}

    found = loo_report.short_verdicts([row("a", (2.5, 0.01), 1.005), row("b", (2.5, 0.2), 1.02)])
    assert found["significant_losses"] == ["a vs family reader"]
    assert found["beyond_margin"] == ["b vs GARCH(1,1)-t (1.0200)"]
    assert "nowhere" not in "\n".join(loo_report.short_lines(found))


def test_a_report_names_the_network_it_measured_and_none_for_the_base_alone() -> None:
    default = TrainConfig()
    assert loo_report.architecture(default).startswith("2 x 32 LSTM, residual head")
    assert "the network reads the newest 60" in loo_report.architecture(default)
    alone = loo_report.architecture(replace(default, model=replace(default.model, reads=0)))
    assert alone.startswith("residual head") and "no network: the base alone" in alone and "LSTM" not in alone
