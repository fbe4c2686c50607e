"""The studies' job configurations: a report is named after its protocol unless given a name."""

from __future__ import annotations

from pathlib import Path

from training.studies.jobs import EvaluateJob, FamilyReaderJob


def test_a_report_is_named_after_its_protocol() -> None:
    assert EvaluateJob().report_name == "sp500"
    assert EvaluateJob(leave_one_out=True).report_name == "loo"
    assert EvaluateJob(name="mine", leave_one_out=True).report_name == "mine"
    assert FamilyReaderJob().window == 60 and FamilyReaderJob().out == Path("reports")
