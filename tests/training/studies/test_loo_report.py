"""The leave-one-asset-out report: the generated blocks are what the code makes of the committed numbers."""

from __future__ import annotations

import json

from tests.conftest import ROOT
from training.core.config import TrainConfig
from training.studies import ablation, loo, loo_report
from training.studies.readme import markers


def test_the_readme_blocks_are_what_the_code_makes_of_the_committed_reports() -> None:
    readme = (ROOT / "docs" / "model.md").read_text()
    data = json.loads((ROOT / "reports" / "loo.json").read_text())
    found = {k: data[k] for k in ("significant_losses", "wins", "wins_over_fhs_and_garch_t", "coverage_outside")}
    start, end = markers("loo")
    assert "\n".join([start, *loo_report.readme_block(data["series"], found, "loo"), end]) in readme
    assert loo.verdicts(data["series"]) == found  # the verdicts follow from the rows
    measured = json.loads((ROOT / "reports" / "ablation.json").read_text())
    start, end = markers("ablation")
    assert "\n".join([start, *ablation.readme_block(measured), end]) in readme
    assert measured[0]["name"] == "default" and len(measured) == len(ablation.rows(TrainConfig()))
