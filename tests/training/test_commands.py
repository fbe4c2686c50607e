"""The product's commands: the retraining loop's schedule checked before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.test_main import run_cli


@pytest.mark.parametrize("every", ["24", "1.5", " 24 "])
def test_retrain_every_without_a_unit_is_refused(tmp_path: Path, every: str) -> None:
    result = run_cli("retrain", "--registry", str(tmp_path), "--every", every)
    assert result.returncode == 2
    assert "has no unit; write it with one, e.g. 24h, 30m, 1d or 90s" in result.stderr
    assert not list(tmp_path.iterdir())  # nothing trained, nothing written


def test_retrain_every_below_an_hour_needs_its_own_flag(tmp_path: Path) -> None:
    result = run_cli("retrain", "--registry", str(tmp_path), "--every", "10m")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: --every 600s is shorter than 1h; each round may publish a new version and reload every replica. "
        "Use e.g. --every 24h, or add --allow-short-every"
    ]
    assert not list(tmp_path.iterdir())
