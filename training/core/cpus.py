"""How many threads torch may use: this process's CPU affinity, capped by its container's CPU quota.

The same rule as service/cpus.py, kept apart on purpose: the trainer and the service never import each other (the
ONNX file is their only contract), and each is tested against the same cgroup v1 and v2 files."""

from __future__ import annotations

import math
import os
from pathlib import Path

# (files, read together as "quota period") for cgroup v2, then v1; a quota of "max" or -1 means no limit
QUOTA_FILES = (("cpu.max",), ("cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us"))


def cpu_quota(cgroup: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU limit in CPUs, from the first cgroup layout present; None when unlimited or unreadable."""
    for files in QUOTA_FILES:
        try:
            quota, period = " ".join((cgroup / name).read_text() for name in files).split()[:2]
        except (OSError, ValueError):
            continue
        if not (quota.lstrip("-").isdigit() and period.isdigit()):
            return None  # "max": no limit
        return int(quota) / int(period) if int(quota) > 0 and int(period) > 0 else None
    return None


def usable_cpus(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """Affinity, capped by the quota rounded up (a Kubernetes limit of 4 CPUs on a 64-core node gives 4)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = cpu_quota(cgroup)
    return max(1, min(cpus, math.ceil(quota)) if quota is not None else cpus)
