"""The trainer's thread count honours the container's CPU quota (cgroup v2 and v1), as the service's does."""

from __future__ import annotations

from training.core.cpus import usable_cpus


def test_train_sizes_torch_from_the_quota() -> None:
    import training.net.train as train

    assert train.usable_cpus is usable_cpus  # the one the trainer calls when --threads is 0
