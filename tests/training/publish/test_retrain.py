"""The retraining job: promote, keep, force, first run, history, pruning, the lock and kill-safety."""

from __future__ import annotations

import gzip
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.conftest import ROOT, TINY, cut_csv, train_tiny
from training.__main__ import main as training_main
from training.core.config import RetrainConfig, TrainConfig
from training.core.data import load_training_data
from training.publish import registry
from training.publish.retrain import decide
from training.scoring import holdout


def retrain_command(reg: Path, data: Path, *extra: str) -> list[str]:
    """The job as a separate process, for tests that kill it or race it."""
    return [sys.executable, "-m", "training", "retrain", "--data", str(data), "--registry", str(reg), *TINY, *extra]


def retrain(reg: Path, data: Path, *extra: str) -> int:
    """One retrain round of tiny models; the quality gate is tested on its own (tiny models fail it)."""
    args = ["retrain", "--data", str(data), "--registry", str(reg), *TINY, *extra]
    return training_main(args if "--gate" in extra else [*args, "--no-gate"])


def history(reg: Path) -> list[dict]:
    return [json.loads(line) for line in (reg / "history.jsonl").read_text().splitlines()]


def cut(tmp_path: Path, rows: int) -> Path:
    """The first `rows` trading days of the bundled S&P 500, a file of its own."""
    return cut_csv(tmp_path / f"sp500_{rows}.csv", rows)


def publish_champion(reg: Path, data: Path, *extra: str) -> str:
    """A champion published by `training train` (as make serve does), quality gate overridden."""
    return train_tiny(reg, data, *extra)


def test_unchanged_data_is_skipped_without_a_new_version_or_reload(
    tmp_path: Path, sp500_small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = tmp_path / "reg"
    champion = publish_champion(reg, sp500_small)
    before = (reg / "CURRENT").stat()
    assert retrain(reg, sp500_small) == 0
    assert capsys.readouterr().out.strip().endswith(f"retrain: SKIPPED - no new data since {champion}")
    assert registry.list_versions(reg) == [champion]
    after = (reg / "CURRENT").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # nothing for a poller to see
    record = history(reg)[-1]
    assert record["decision"] == "skipped" and record["champion"] == champion
    assert not list(reg.glob(".staging-*"))


def test_an_identical_challenger_with_force_is_promoted_and_recorded_as_forced(
    tmp_path: Path, sp500_small: Path
) -> None:
    reg = tmp_path / "reg"
    champion = publish_champion(reg, sp500_small, "--seed", "4")
    assert retrain(reg, sp500_small, "--seed", "4", "--force") == 0
    record = history(reg)[-1]
    assert record["decision"] == "promoted" and record["forced"] and record["reason"] == "forced (--force)"
    assert record["champion"] == champion and registry.current_version(reg) == record["challenger"] != champion
    challenger, held = record["scores"]["challenger"], record["scores"]["champion"]
    assert challenger["intervals"]["pinball_pct"] == pytest.approx(held["intervals"]["pinball_pct"], rel=1e-5)
    assert record["pinball_improvement"] == pytest.approx(0.0, abs=1e-5)


def test_a_worse_challenger_is_refused(tmp_path: Path, sp500_small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = tmp_path / "reg"
    champion = publish_champion(reg, cut(tmp_path, 400))  # beside the new data: retrain finds it there
    # New data (50 more days), and a challenger that never learns: random weights on a global min-max scale.
    assert retrain(reg, cut(tmp_path, 450), "--lr", "0", "--normalize", "minmax") == 0
    out = capsys.readouterr().out
    record = history(reg)[-1]
    assert record["decision"] == "kept" and record["reason"].startswith("pinball improvement -")
    assert registry.current_version(reg) == champion and registry.list_versions(reg) == [champion]
    for name in ("challenger", "champion", "naive", "naive + GARCH(1,1)-t"):
        assert name in record["scores"] and name in out
    assert {"coverage_80", "coverage_95"} <= set(record["scores"]["challenger"]["intervals"])
    assert 0 <= record["dm_pinball_vs_champion"]["p_value"] <= 1 and "Diebold-Mariano" in out


def test_a_better_challenger_is_promoted(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    champion = publish_champion(reg, cut(tmp_path, 400), "--lr", "0", "--normalize", "minmax")
    assert retrain(reg, cut(tmp_path, 450)) == 0
    record = history(reg)[-1]
    assert record["decision"] == "promoted" and not record["forced"]
    assert record["pinball_improvement"] >= record["min_improvement"] > 0
    current = registry.current_version(reg)
    assert current == record["challenger"] != champion
    card = json.loads((reg / current / "model.json").read_text())
    assert card["promotion"]["scores"]["champion"]["mae"] == record["scores"]["champion"]["mae"]
    assert set(card["promotion"]["scores"]) == {"challenger", "champion", "naive", *holdout.BASELINES}


def test_a_champion_that_cannot_be_scored_is_replaced_with_the_reason(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    champion = publish_champion(reg, cut(tmp_path, 400))
    (reg / champion / "model.onnx").write_bytes(b"not an onnx file")
    assert retrain(reg, cut(tmp_path, 450)) == 0
    record = history(reg)[-1]
    assert record["decision"] == "promoted" and not record["champion_scored"]
    assert record["reason"].startswith(f"champion {champion} cannot be scored")
    assert registry.current_version(reg) == record["challenger"]


def test_a_registry_with_no_current_model_is_refused_unless_starting_one_is_asked_for(
    tmp_path: Path, sp500_small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mistyped = tmp_path / "modles"
    assert retrain(mistyped, sp500_small) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: --registry {mistyped} does not exist;") and "--new-registry" in line
    assert not mistyped.exists()  # nothing trained, nothing written
    (tmp_path / "empty").mkdir()
    assert retrain(tmp_path / "empty", sp500_small) == 2
    assert "has no current model (no CURRENT file)" in capsys.readouterr().err
    assert list((tmp_path / "empty").iterdir()) == []


def test_first_run_promotes(tmp_path: Path, sp500_small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = tmp_path / "reg"
    assert retrain(reg, sp500_small, "--new-registry") == 0
    assert "retrain: PROMOTED - no champion (first run)" in capsys.readouterr().out
    assert registry.current_version(reg) == history(reg)[-1]["challenger"]


def test_the_gate_refuses_a_miscalibrated_challenger(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    code = training_main(
        [
            "retrain",
            "--data",
            str(sp500_small),
            "--registry",
            str(reg),
            *TINY,
            "--lr",
            "0",
            "--normalize",
            "minmax",
            "--new-registry",
        ]
    )
    assert code == 0
    record = history(reg)[-1]
    assert record["decision"] == "kept" and record["reason"].startswith("quality gate: ")
    assert "rejected by Kupiec" in record["reason"] and registry.current_version(reg) is None


def test_keep_prunes_old_versions_but_never_current(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    for seed in range(3):
        assert retrain(reg, sp500_small, "--seed", str(seed), "--force", "--keep", "2", "--new-registry") == 0
    versions = registry.list_versions(reg)
    assert len(versions) == 2 and registry.current_version(reg) == versions[-1]
    assert history(reg)[-1]["pruned"]


def test_bad_data_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Close\n2020-01-02,abc\n")
    assert retrain(tmp_path / "reg", bad, "--new-registry") == 2
    assert not (tmp_path / "reg" / "CURRENT").exists()


def test_second_job_is_refused_by_the_lock(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    with registry.registry_lock(reg):
        result = subprocess.run(
            retrain_command(reg, sp500_small, "--no-gate", "--new-registry"),
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
    assert retrain(reg, sp500_small, "--seed", "0", "--new-registry") == 0
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


def test_same_weights_twice_in_one_second_get_distinct_versions(tmp_path: Path, sp500_small: Path) -> None:
    reg = tmp_path / "reg"
    assert retrain(reg, sp500_small, "--seed", "5", "--force", "--new-registry") == 0
    assert retrain(reg, sp500_small, "--seed", "5", "--force") == 0  # identical weights, likely the same second
    first, second = history(reg)[0]["challenger"], history(reg)[1]["challenger"]
    assert first != second and registry.list_versions(reg) == sorted([first, second])


def three_series(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The S&P 500 and NASDAQ (400 days each) and the tutorial's Google file, side by side in one folder."""
    nasdaq = tmp_path / "nasdaq_400.csv"
    lines = gzip.decompress((ROOT / "training" / "data" / "nasdaq.csv.gz").read_bytes()).decode().splitlines()
    nasdaq.write_text("\n".join(lines[:401]) + "\n")
    google = tmp_path / "google.csv"
    shutil.copyfile(ROOT / "tests" / "data" / "Google_Stock_Price_Train.csv", google)
    return cut(tmp_path, 400), nasdaq, google


def test_a_challenger_on_other_series_is_a_change_of_purpose_judged_on_all_of_them(tmp_path: Path) -> None:
    sp500, nasdaq, google = three_series(tmp_path)
    reg = tmp_path / "reg"
    assert (
        training_main(["train", "--data", str(sp500), "--data", str(nasdaq), "--out", str(reg), *TINY, "--force"]) == 0
    )
    champion = registry.current_version(reg)
    assert retrain(reg, google) == 0
    record = history(reg)[-1]
    assert record["decision"] == "kept" and registry.current_version(reg) == champion
    assert record["reason"].startswith("a change of purpose") and "--allow-other-series" in record["reason"]
    assert record["other_series"] == [
        "champion only: sp500_400.csv",
        "champion only: nasdaq_400.csv",
        "challenger only: google.csv",
    ]
    # the decision was made on all three series: both models scored on the newest days of each
    assert [s["file"] for s in record["holdout"]["series"]] == ["google.csv", "sp500_400.csv", "nasdaq_400.csv"]
    assert record["holdout"]["days"] == 3 * 50 and "champion" in record["scores"]


def test_with_the_flag_the_change_of_purpose_is_decided_on_significance_and_recorded(tmp_path: Path) -> None:
    sp500, nasdaq, google = three_series(tmp_path)
    reg = tmp_path / "reg"
    never_learns = ["--lr", "0", "--normalize", "minmax"]
    assert (
        training_main(
            ["train", "--data", str(sp500), "--data", str(nasdaq), "--out", str(reg), *TINY, *never_learns, "--force"]
        )
        == 0
    )
    champion = registry.current_version(reg)
    assert retrain(reg, google, "--allow-other-series") == 0
    record = history(reg)[-1]
    assert record["decision"] == "promoted" and record["change_of_purpose"] and not record["forced"]
    assert "significant (Diebold-Mariano p = " in record["reason"]
    assert record["dm_pinball_vs_champion"]["p_value"] < 0.05
    card = json.loads((reg / registry.current_version(reg) / "model.json").read_text())
    assert card["promotion"]["change_of_purpose"] and card["promotion"]["champion"] == champion


def test_a_gain_that_is_not_significant_keeps_the_champion_unless_forced() -> None:
    rng = np.random.default_rng(0)
    champion = np.abs(rng.normal(1.0, 0.5, 250))
    challenger = champion * 0.99 + rng.normal(0, 0.2, 250)  # 1% better on average, far from significant
    table = {
        name: {"intervals": {"pinball_pct": float(daily.mean())}, "pinball_by_day": daily}
        for name, daily in (("challenger", challenger), ("champion", champion))
    }
    days = holdout.holdout_days(
        [load_training_data(TrainConfig(data=[ROOT / "training" / "data" / "sp500.csv.gz"]))[0]], 250, 60
    )
    config = RetrainConfig(gate=False)
    promoted, reason = decide(table, config, "", days, [])
    assert (
        not promoted and "not significant (Diebold-Mariano p = " in reason and ">= 0.05); --force promotes it" in reason
    )
    assert decide(table, replace(config, force=True), "", days, [])[0]
    assert not decide(table, config, "", days, ["challenger only: x.csv"])[0]  # a change of purpose first
    table["challenger"]["pinball_by_day"] = champion * 0.95  # 5% better every day: significant
    table["challenger"]["intervals"]["pinball_pct"] = float(champion.mean() * 0.95)
    promoted, reason = decide(table, config, "", days, [])
    assert promoted and "significant (Diebold-Mariano p = 0.000)" in reason


def test_a_champion_file_that_cannot_be_found_is_named(tmp_path: Path) -> None:
    sp500, _, google = three_series(tmp_path)
    reg = tmp_path / "reg"
    publish_champion(reg, sp500)
    sp500.unlink()
    assert retrain(reg, google) == 2  # bad input: nothing trained, nothing recorded
    assert not (reg / "history.jsonl").read_text().count('"decision": "kept"')
