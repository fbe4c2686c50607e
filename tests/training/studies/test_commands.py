"""The studies' commands: each runs its study and prints the report's lines; a bad option is refused before any
work (the studies themselves are tested in their own files, and each takes 20 minutes to 2 hours in full)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.core.options import Command
from training.studies import commands
from training.studies.jobs import FamilyReaderJob


def test_every_study_has_its_command_with_help() -> None:
    assert list(commands.COMMANDS) == ["evaluate", "ablation", "window-limit", "family-reader"]
    for command in commands.COMMANDS.values():
        assert isinstance(command, Command) and command.help and len(command.description) > 80


def test_a_window_the_tables_days_cannot_hold_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"--window 1001: the table's days leave room for 2 to 1000 prices"):
        commands.run_family_reader(FamilyReaderJob(out=tmp_path, window=1001))
    assert list(tmp_path.iterdir()) == []
