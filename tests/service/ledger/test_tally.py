"""Tallies: one write's recorded, unmatched and scored forecasts as the counter increments the metrics add, equal
to counting them one by one; series outside the named ones under 'other'."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from service.ledger.calibration import pinball
from service.ledger.matching import Scored, Written
from service.ledger.tally import OTHER, tally_scored, tally_written

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)
SERVED = (95.0, 97.0, 100.0, 103.0, 105.0)


def label(series: str) -> str:
    return series if series == "spx" else OTHER


def test_a_write_is_tallied_by_model_series_and_reason() -> None:
    written = Written([("v1", "spx"), ("v1", "spx"), ("v1", "window-ab12"), ("v2", "spx")], 3)
    written.unmatched = Counter({"ambiguous": 2})
    found = tally_written(written, label)
    assert found[("recorded", "v1", "spx")] == 2 and found[("recorded", "v1", OTHER)] == 1
    assert found[("recorded", "v2", "spx")] == 1
    assert found[("unmatched", "duplicate_forecast")] == 3 and found[("unmatched", "ambiguous")] == 2


def test_scored_forecasts_sum_to_what_counting_each_gives() -> None:
    outcomes = np.random.default_rng(5).normal(100.0, 4.0, 300)
    scored = [Scored("spx", "v1", LEVELS, SERVED, 100.0, float(y), "window") for y in outcomes]
    scored += [Scored("other series", "v1", LEVELS, SERVED, 100.0, 106.0, "posted")]
    found = tally_scored(scored, label)
    assert found[("scored", "v1", "spx", "window")] == 300 and found[("scored", "v1", OTHER, "posted")] == 1
    each = pinball(outcomes, np.full(300, 100.0), np.tile(SERVED, (300, 1)), LEVELS)
    for i, level in enumerate(LEVELS):
        assert found[("pinball", "v1", "spx", f"{level:g}")] == pytest.approx(each[:, i].sum(), rel=1e-12)
    assert found[("misses", "v1", "spx", "0.8", "below")] == int(np.sum(outcomes < 97.0))
    assert found[("misses", "v1", "spx", "0.95", "above")] == int(np.sum(outcomes > 105.0))
    assert found[("misses", "v1", OTHER, "0.95", "above")] == 1
    assert not [k for k, v in found.items() if k[0] == "misses" and v == 0]  # no zero increments
