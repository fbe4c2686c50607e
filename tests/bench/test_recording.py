"""The recording benchmark's load: one path's days as distinct bodies, posted in turn by wrk's Lua script, every one
recorded by the real service (and each repeat counted as the duplicate it is); its table row by row."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import httpx

from bench.load import run_wrk_bodies
from bench.recording import counted, day_bodies
from bench.run import recording_section
from tests.live_server import serving_copy


def test_each_body_is_the_next_day_of_one_path() -> None:
    bodies = [json.loads(b)["window"] for b in day_bodies(days=50)]
    assert len(bodies) == 50 and all(len(w) == 60 for w in bodies)
    assert all(later[:-1] == earlier[1:] for earlier, later in itertools.pairwise(bodies))


def test_wrk_posts_the_bodies_in_turn_and_the_service_records_each(
    tmp_path: Path, model_pair: tuple[Path, str, str]
) -> None:
    with serving_copy(model_pair[0], tmp_path) as base:
        result = run_wrk_bodies(base + "/predict", day_bodies(days=300), 4, 1)
        assert result["errors"] == 0 and result["requests"] > 300  # the 300 days, then again from the first
        httpx.get(base + "/calibration")  # waits until everything answered is written
        store = counted(base)
        metrics = httpx.get(base + "/metrics").text
    duplicates = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('forecast_outcomes_unmatched_total{reason="duplicate_forecast"}')
    )
    answered = store["recorded"] + duplicates  # wrk does not count the (at most 4) it had in flight at the end
    assert store["recorded"] == 300 and result["requests"] <= answered <= result["requests"] + 4
    assert store["scored"] == 299 and store["dropped"] == 0


def test_the_table_shows_both_arms() -> None:
    row = {"rps": 4000.0, "p50_ms": 7.0, "p99_ms": 12.0, "errors": 0, "recorded": 0, "dropped": 0, "scored": 0}
    on = {**row, "rps": 3700.0, "recorded": 9e4, "scored": 9e4 - 3}
    lines = recording_section(
        {
            "repeats": 5,
            "off": row | {"cpu_us_server": 270, "cpu_us_writer": 0},
            "on": on | {"cpu_us_server": 290, "cpu_us_writer": 45},
        }
    )
    assert "| off | 4000 | 7.00 | 12.00 | 0 | 0 | 0 | 0 | 270 | 0 |" in lines
    assert "| on | 3700 | 7.00 | 12.00 | 0 | 90000 | 0 | 89997 | 290 | 45 |" in lines
