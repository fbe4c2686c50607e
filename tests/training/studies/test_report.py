"""The docs page's headline block is what the report code makes of reports/sp500.json, not typed numbers."""

from __future__ import annotations

import json

from tests.conftest import ROOT
from training.studies import report
from training.studies.readme import markers


def test_readme_block_matches_the_committed_report() -> None:
    data = json.loads((ROOT / "reports" / "sp500.json").read_text())
    scores = {k: data[k] for k in ("walk_forward", "holdout", "all")}
    extra = {k: data[k] for k in ("cross_asset", "synthetic", "out_of_range")}
    block = report.readme_block("sp500", scores, extra, "sp500_forecast.png")
    start, end = markers("report")
    assert f"{start}\n{block}\n{end}" in (ROOT / "docs" / "model.md").read_text()
    assert (ROOT / "reports" / "sp500_forecast.png").is_file()
    for check in ("sp500.csv.gz walk-forward", "nasdaq.csv.gz, cross-asset", "synthetic calm", "synthetic wild"):
        assert check in block  # the interval story is told on every check, model next to GARCH-t and EWMA
