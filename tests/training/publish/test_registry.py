"""Registry writes: staged versions, atomic CURRENT, the lock, pruning."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from training.publish import registry
from training.publish.registry import RegistryBusy


def staged_version(root: Path, name: str) -> Path:
    staged = registry.staging_dir(root)
    (staged / "model.onnx").write_bytes(b"onnx")
    (staged / "model.json").write_text("{}")
    return registry.publish(root, staged, name)


def test_publish_then_point_current(tmp_path: Path) -> None:
    staged_version(tmp_path, "v1")
    assert registry.current_version(tmp_path) is None
    registry.set_current(tmp_path, "v1")
    assert registry.current_version(tmp_path) == "v1"
    assert (tmp_path / "CURRENT").read_text() == "v1\n"
    assert not list(tmp_path.glob(".CURRENT-*"))  # the temp file was renamed, not left behind


def test_incomplete_or_unknown_versions_are_refused(tmp_path: Path) -> None:
    staged = registry.staging_dir(tmp_path)
    (staged / "model.onnx").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"missing model\.json"):
        registry.publish(tmp_path, staged, "v1")
    with pytest.raises(ValueError, match=r"not a published version"):
        registry.set_current(tmp_path, "v9")
    with pytest.raises(ValueError, match="invalid version"):
        registry.publish(tmp_path, staged, "../evil")


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "a..b", "x" * 200])
def test_version_names_are_plain(name: str) -> None:
    assert not registry.is_valid_version(name)


def test_new_version_sorts_by_time() -> None:
    early = registry.new_version(datetime(2020, 1, 2, 3, 4, 5, 7, tzinfo=UTC), "ff" * 32)
    late = registry.new_version(datetime(2020, 1, 2, 3, 4, 5, 8, tzinfo=UTC), "00" * 32)  # same second
    assert early == "20200102T030405.000007Z-ffffffff" and early < late and registry.is_valid_version(early)


def hold_lock(root: str, ready: multiprocessing.Event, release: multiprocessing.Event) -> None:
    with registry.registry_lock(Path(root)):
        ready.set()
        release.wait(10)


def test_lock_refuses_a_second_job_and_is_freed_when_the_holder_dies(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    assert ready.wait(30)
    with pytest.raises(RegistryBusy, match="another job"), registry.registry_lock(tmp_path):
        pass
    holder.kill()  # SIGKILL: no clean-up code runs, the kernel drops the flock
    holder.join()
    with registry.registry_lock(tmp_path):
        pass


def test_prune_keeps_newest_and_current(tmp_path: Path) -> None:
    for name in ("v1", "v2", "v3", "v4"):
        staged_version(tmp_path, name)
        time.sleep(0)
    registry.set_current(tmp_path, "v1")
    leftover = registry.staging_dir(tmp_path)
    removed = registry.prune(tmp_path, keep=2)
    assert removed == ["v2"]
    assert registry.list_versions(tmp_path) == ["v1", "v3", "v4"]
    assert not leftover.exists()


def test_unused_version_never_reuses_a_published_name(tmp_path: Path) -> None:
    staged_version(tmp_path, "v")
    staged_version(tmp_path, "v-2")
    assert registry.unused_version(tmp_path, "v") == "v-3"
    assert registry.unused_version(tmp_path, "w") == "w"
