"""The trainer's CPU count: affinity capped by the container's CPU quota."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from training.core.cpus import cpu_quota, usable_cpus

AFFINITY = len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_the_quota_from_each_cgroup_layout(tmp_path: Path, files: dict[str, str], quota: float | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cpu_quota(tmp_path) == quota
    expected = AFFINITY if quota is None else max(1, min(AFFINITY, -(-quota // 1)))
    assert usable_cpus(tmp_path) == expected


def test_a_quota_under_one_cpu_still_gives_one_thread(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("20000 100000\n")
    assert usable_cpus(tmp_path) == 1
