"""CPU counting from affinity and the cgroup quota (v2 and v1 files)."""

from __future__ import annotations

from pathlib import Path

from service.cpus import affinity_cpus, cgroup_quota, usable_cpus


def test_v2_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_quota(tmp_path) == 1.5
    assert usable_cpus(tmp_path) == min(affinity_cpus(), 2)


def test_v2_unlimited(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_quota(tmp_path) is None
    assert usable_cpus(tmp_path) == affinity_cpus()


def test_v1_quota_and_no_cgroup(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_quota(tmp_path) == 0.5
    assert usable_cpus(tmp_path) == 1
    assert cgroup_quota(tmp_path / "missing") is None
