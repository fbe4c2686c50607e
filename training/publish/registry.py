"""The model registry on disk: staged version directories, an atomic CURRENT pointer, a lock, pruning."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from training.core.records import HistoryRecord

VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
STAGING_PREFIX = ".staging-"
CURRENT = "CURRENT"
HISTORY = "history.jsonl"
REQUIRED_FILES = ("model.onnx", "model.json")


class RegistryBusy(Exception):
    """Another job holds the registry lock."""


def new_version(now: datetime, digest: str) -> str:
    """A name that sorts by creation time (UTC, to the microsecond: two jobs in one second still sort in
    order, which pruning relies on), then the first hex digits of the weights' sha256."""
    return f"{now:%Y%m%dT%H%M%S.%fZ}-{digest[:8]}"


def unused_version(registry: Path, name: str) -> str:
    """`name`, or `name-2`, `name-3`... when the same weights were already published in the same second."""
    candidate, n = name, 1
    while (registry / candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def is_valid_version(name: str) -> bool:
    """Version names are plain directory names: no separators, no '..', no hidden names."""
    return bool(VERSION_PATTERN.match(name)) and ".." not in name


def fsync_path(path: Path) -> None:
    """Flushes a file or directory to disk so that a rename after it never exposes missing bytes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def registry_lock(registry: Path) -> Iterator[None]:
    """An exclusive lock on <registry>/.lock; the kernel drops it when the holder dies, even by SIGKILL."""
    registry.mkdir(parents=True, exist_ok=True)
    fd = os.open(registry / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise RegistryBusy(f"{registry}: another job holds {registry / '.lock'}") from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def remove_if_unused(registry: Path) -> None:
    """Deletes a registry that holds nothing but its lock file and staging leftovers (a run that failed)."""
    if not registry.is_dir() or any(
        p.name != ".lock" and not p.name.startswith(STAGING_PREFIX) for p in registry.iterdir()
    ):
        return
    shutil.rmtree(registry, ignore_errors=True)


def staging_dir(registry: Path) -> Path:
    """A fresh hidden directory inside the registry (same filesystem, so the final rename is atomic)."""
    registry.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=registry))


def publish(registry: Path, staged: Path, version: str) -> Path:
    """Moves a complete staged directory to <registry>/<version>; CURRENT is not touched."""
    if not is_valid_version(version):
        raise ValueError(f"invalid version name {version!r}")
    missing = [name for name in REQUIRED_FILES if not (staged / name).is_file()]
    if missing:
        raise ValueError(f"{staged}: missing {', '.join(missing)}")
    for item in staged.iterdir():
        fsync_path(item)
    os.chmod(staged, 0o755)  # mkdtemp makes it 0700; the service may run as another user
    fsync_path(staged)
    target = registry / version
    os.rename(staged, target)
    fsync_path(registry)
    return target


def set_current(registry: Path, version: str) -> None:
    """Points CURRENT at a published version: write a temp file, fsync, rename over CURRENT."""
    if not (registry / version / "model.onnx").is_file():
        raise ValueError(f"{registry / version} is not a published version")
    fd, tmp = tempfile.mkstemp(prefix=".CURRENT-", dir=registry)
    with os.fdopen(fd, "w") as f:
        f.write(version + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, registry / CURRENT)
    fsync_path(registry)


def current_version(registry: Path) -> str | None:
    """The version CURRENT names, or None when there is no usable CURRENT."""
    try:
        name = (registry / CURRENT).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name if is_valid_version(name) else None


def list_versions(registry: Path) -> list[str]:
    """Published versions, oldest first (names start with their UTC creation time)."""
    if not registry.is_dir():
        return []
    return sorted(
        p.name for p in registry.iterdir() if p.is_dir() and is_valid_version(p.name) and (p / "model.onnx").is_file()
    )


def prune(registry: Path, keep: int) -> list[str]:
    """Deletes all but the newest `keep` versions and leftover staging dirs; never the current one."""
    current = current_version(registry)
    versions = list_versions(registry)
    doomed = [v for v in versions[: max(len(versions) - keep, 0)] if v != current]
    for version in doomed:
        shutil.rmtree(registry / version)
    for leftover in registry.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    return doomed


def append_history(registry: Path, record: HistoryRecord) -> None:
    """One JSON line per decision (published, promoted, kept, skipped), appended and flushed to disk."""
    with open(registry / HISTORY, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())
