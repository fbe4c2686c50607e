"""The bundled default model: a registry version shipped in the repository, copied into an empty registry."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from training.publish import registry

BUNDLED_MODEL = Path(__file__).parents[1] / "bundled"  # a registry of one version, CURRENT naming it


def install_default(out: Path, source: Path = BUNDLED_MODEL) -> str | None:
    """Copies the bundled version into `out` and points CURRENT at it, unless `out` already serves a model.

    Returns the version installed, or None when there was one already. Staged, then renamed into place and
    CURRENT replaced atomically, under the registry lock, as a trained version is: nothing half-copied is
    ever current.
    """
    version = bundled_version(source)
    out.mkdir(parents=True, exist_ok=True)
    with registry.registry_lock(out):
        existing = registry.current_version(out)
        if existing and all((out / existing / name).is_file() for name in registry.REQUIRED_FILES):
            return None
        if not all((out / version / name).is_file() for name in registry.REQUIRED_FILES):
            copy_version(source / version, out, version)
        registry.set_current(out, version)
        registry.append_history(
            out,
            {
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "decision": "published",
                "reason": "the bundled default model, installed into an empty registry",
                "forced": False,
                "version": version,
            },
        )
    return version


def bundled_version(source: Path = BUNDLED_MODEL) -> str:
    """The version the bundled registry's CURRENT names."""
    version = registry.current_version(source)
    if version is None:
        raise FileNotFoundError(f"{source}: no bundled model (no CURRENT)")
    return version


def bundled_onnx(source: Path = BUNDLED_MODEL) -> Path:
    """The bundled default's ONNX file."""
    return source / bundled_version(source) / "model.onnx"


def copy_version(version_dir: Path, out: Path, version: str) -> None:
    """A copy of a version directory, staged in `out` and renamed into place (a broken leftover is replaced)."""
    staged = registry.staging_dir(out)
    try:
        shutil.copytree(version_dir, staged, dirs_exist_ok=True)
        shutil.rmtree(out / version, ignore_errors=True)
        registry.publish(out, staged, version)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
