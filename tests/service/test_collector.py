"""The collector settled: start-up objects frozen out of its scans, the young generation scanned less often."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_settle_freezes_what_exists_and_scans_the_young_less_often() -> None:
    script = (
        "import gc; from service import collector; before = gc.get_freeze_count(); collector.settle(); "
        "print(before, gc.get_freeze_count() > 1000, gc.get_threshold())"
    )
    shown = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert shown.stdout.split(maxsplit=1) == ["0", "True (50000, 20, 100)\n"]
