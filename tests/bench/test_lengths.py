"""The mixed-length benchmark's load: one body in five at the longest window, served by the real service under
concurrent traffic with the same answers as alone; its table and its targets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bench.lengths import answers_under_mixed_load, mixed_bodies, short_bodies
from bench.load import run_wrk_bodies
from bench.run import length_checks, lengths_section
from tests.live_server import serving_copy


def test_one_body_in_five_posts_the_longest_window() -> None:
    lengths = [len(json.loads(b)["window"]) for b in mixed_bodies(60, 300)]
    assert lengths.count(300) == len(lengths) // 5 and lengths.count(60) == len(lengths) - len(lengths) // 5
    assert {len(json.loads(b)["window"]) for b in short_bodies(60)} == {60}


def test_mixed_lengths_under_load_answer_as_alone(tmp_path: Path, model_pair: tuple[Path, str, str]) -> None:
    bodies = mixed_bodies(60, 300)[:100]
    with serving_copy(model_pair[0], tmp_path) as base:
        assert asyncio.run(answers_under_mixed_load(base + "/predict", bodies)) <= 1e-6
        result = run_wrk_bodies(base + "/predict", bodies, 8, 1)
    assert result["errors"] == 0 and result["requests"] > 100


def test_the_table_and_targets_read_the_runs() -> None:
    row = {"rps": 3000.0, "p50_ms": 9.0, "p99_ms": 14.0, "errors": 0, "repeats": 5}
    found = {"shortest only": row, "mixed": row | {"rps": 2000.0}, "shortest": 60, "longest": 1000}
    found |= {"long_share": 0.2, "max_rel_diff": 2e-7}
    lines = lengths_section(found)
    assert "| mixed | 2000 | 9.00 | 14.00 | 0 |" in lines and any("(1000 prices)" in line for line in lines)
    assert [c["ok"] for c in length_checks(found)] == [True, True]
    assert [c["ok"] for c in length_checks(found | {"max_rel_diff": 1e-3})] == [True, False]
