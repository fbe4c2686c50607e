"""The retraining job: promote, keep, force, first run, history, pruning, the lock and kill-safety."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.conftest import ROOT, TINY
from training import registry
from training.__main__ import main as training_main
from training.retrain import decide


def retrain_command(reg: Path, data: Path, *extra: str) -> list[str]:
    """The job as a separate process, for tests that kill it or race it."""
    return [sys.executable, "-m", "training", "retrain", "--data", str(data), "--registry", str(reg), *TINY, *extra]


def retrain(reg: Path, data: Path, *extra: str) -> int:
    """One retrain round of tiny models; the quality gate is tested on its own (tiny models fail it)."""
    args = ["retrain", "--data", str(data), "--registry", str(reg), *TINY, *extra]
    return training_main(args if "--gate" in extra else [*args, "--no-gate"])


def history(reg: Path) -> list[dict]:
    return [json.loads(line) for line in (reg / "history.jsonl").read_text().splitlines()]


def test_decide_rules() -> None:
    champ, better, worse = {"mae": 10.0}, {"mae": 9.0}, {"mae": 11.0}
    assert decide(None, worse, 0.0, False)[0]  # first run promotes whatever the score
    assert decide(champ, better, 0.05, False)[:1] == (True,)
    assert decide(champ, better, 0.2, False)[0] is False  # 10% better is not 20% better
    assert decide(champ, worse, 0.0, False)[0] is False
    promoted, reason, improvement = decide(champ, worse, 0.0, True)
    assert promoted and reason.startswith("forced") and improvement == pytest.approx(-0.1)
    assert decide(champ, {"mae": 10.0}, 0.0, False)[0]  # "at least as good" with 0.0


def test_first_run_promotes_then_keep_then_force(
    tmp_path: Path, sp500_small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = tmp_path / "reg"
    assert retrain(reg, sp500_small, "--seed", "1") == 0
    first = registry.current_version(reg)
    assert "retrain: PROMOTED - no champion" in capsys.readouterr().out
    assert retrain(reg, sp500_small, "--seed", "2", "--min-improvement", "0.9") == 0
    out = capsys.readouterr().out
    assert "retrain: KEPT" in out and "champion" in out and "naive" in out
    assert registry.current_version(reg) == first
    assert registry.list_versions(reg) == [first]  # a kept challenger is not published
    assert retrain(reg, sp500_small, "--seed", "3", "--min-improvement", "0.9", "--force") == 0
    forced = registry.current_version(reg)
    assert forced != first
    records = history(reg)
    assert [r["decision"] for r in records] == ["promoted", "kept", "promoted"]
    assert records[2]["forced"] and records[2]["champion"] == first
    for record in records[1:]:
        scores = record["scores"]
        assert {"mae", "rmse", "directional_accuracy"} <= set(scores["challenger"])
        assert scores["champion"]["mae"] > 0 and scores["naive"]["mae"] > 0
        assert record["holdout"]["days"] == 50
    expected = 1 - records[1]["scores"]["challenger"]["mae"] / records[1]["scores"]["champion"]["mae"]
    assert records[1]["mae_improvement"] == pytest.approx(expected)


def test_champion_is_scored_with_its_own_onnx(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    assert retrain(reg, sp500_small, "--seed", "1") == 0
    assert retrain(reg, sp500_small, "--seed", "1", "--min-improvement", "0.9") == 0
    first, second = history(reg)
    # same seed, same data: the challenger equals the champion, so their holdout scores agree
    assert second["scores"]["champion"]["mae"] == pytest.approx(first["scores"]["challenger"]["mae"], rel=1e-6)


def test_keep_prunes_old_versions_but_never_current(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    for seed in range(3):
        assert retrain(reg, sp500_small, "--seed", str(seed), "--force", "--keep", "2") == 0
    versions = registry.list_versions(reg)
    assert len(versions) == 2 and registry.current_version(reg) == versions[-1]
    assert history(reg)[-1]["pruned"]


def test_bad_data_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Close\n2020-01-02,abc\n")
    assert retrain(tmp_path / "reg", bad) == 2
    assert not (tmp_path / "reg" / "CURRENT").exists()


def test_second_job_is_refused_by_the_lock(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    with registry.registry_lock(reg):
        result = subprocess.run(
            retrain_command(reg, sp500_small, "--no-gate"),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    assert result.returncode == 1
    assert "another job holds" in result.stderr


def assert_current_is_complete(reg: Path) -> None:
    version = registry.current_version(reg)
    assert version is not None
    card = json.loads((reg / version / "model.json").read_text())
    session = ort.InferenceSession(str(reg / version / "model.onnx"))
    got = session.run(None, {"window": np.array([card["golden"][0]["window"]], dtype=np.float32)})[0]
    assert got[0] == pytest.approx(card["golden"][0]["forecast"], rel=1e-5)


def test_killed_jobs_never_leave_current_incomplete(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    assert retrain(reg, sp500_small, "--seed", "0") == 0
    rng = random.Random(7)
    command = retrain_command(reg, sp500_small, "--force")
    for i in range(20):  # killed at random points: importing, loading, training, exporting, publishing
        proc = subprocess.Popen(
            [*command, "--seed", str(i + 1)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.2, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_current_is_complete(reg)
    assert retrain(reg, sp500_small, "--seed", "9", "--force") == 0  # the lock died with the killed jobs
    assert_current_is_complete(reg)
    assert not list(reg.glob(".staging-*"))  # leftovers of killed jobs were cleaned up


def test_quality_gate_blocks_a_challenger_worse_than_naive_or_miscalibrated() -> None:
    naive = {"mae": 10.0}
    good = {"mae": 10.1, "intervals": {"coverage_80": {"coverage": 0.8}, "coverage_95": {"coverage": 0.95}}}
    assert decide(None, good, 0.0, False, naive)[0]
    promoted, reason, _ = decide(None, {"mae": 10.3}, 0.0, False, naive)
    assert not promoted and "MAE is 1.0300x naive (limit 1.02)" in reason
    wide = {"mae": 9.0, "intervals": {"coverage_80": {"coverage": 0.9}, "coverage_95": {"coverage": 0.99}}}
    promoted, reason, _ = decide({"mae": 12.0}, wide, 0.0, False, naive)
    assert not promoted and "80% interval coverage 0.900 outside [0.75, 0.85]" in reason
    assert "95% interval coverage 0.990" in reason
    assert decide({"mae": 12.0}, wide, 0.0, True, naive)[0]  # --force overrides the gate


def test_gate_is_applied_by_the_job(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    code = training_main(["retrain", "--data", str(sp500_small), "--registry", str(reg), *TINY])
    assert code == 0
    record = history(reg)[-1]
    intervals = record["scores"]["challenger"]["intervals"]
    off = (
        not 0.75 <= intervals["coverage_80"]["coverage"] <= 0.85
        or not 0.92 <= intervals["coverage_95"]["coverage"] <= 0.98
    )
    ratio = record["scores"]["challenger"]["mae"] / record["scores"]["naive"]["mae"]
    should_fail = off or ratio > 1.02
    assert (record["decision"] == "kept") == should_fail
    assert record["reason"].startswith("quality gate") == should_fail


def test_same_weights_twice_in_one_second_get_distinct_versions(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    assert retrain(reg, sp500_small, "--seed", "5", "--force") == 0
    assert retrain(reg, sp500_small, "--seed", "5", "--force") == 0  # identical weights, likely the same second
    first, second = history(reg)[0]["challenger"], history(reg)[1]["challenger"]
    assert first != second and registry.list_versions(reg) == sorted([first, second])
