"""Reads <registry>/CURRENT, loads and validates that version beside the live one, swaps it in atomically."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from service.errors import ModelError
from service.model.forecaster import Forecaster, load_forecaster
from service.model.sessions import SessionConfig

log = logging.getLogger(__name__)

# The same rule the trainer names versions by: a plain directory name, never a path.
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_CURRENT_BYTES = 256


class RegistryError(Exception):
    """The registry does not name a loadable version; the message says why."""


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: loaded a new version, found nothing new, or refused one (with the reason)."""

    status: str  # "loaded" | "unchanged" | "refused"
    version: str | None
    previous: str | None
    reason: str = ""


def read_current(root: Path) -> str:
    """The version named by CURRENT, validated as a plain directory name inside the registry."""
    if root.exists() and not root.is_dir():
        raise RegistryError(
            f"registry directory {root} is a file, not a directory: FORECAST_MODEL_DIR names the registry"
        )
    if not root.is_dir():
        raise RegistryError(f"registry directory {root} does not exist")
    try:
        raw = (root / "CURRENT").read_bytes()[: MAX_CURRENT_BYTES + 1]
    except FileNotFoundError:
        raise RegistryError("no model yet: the registry has no CURRENT file") from None
    except OSError as exc:
        raise RegistryError(f"cannot read CURRENT: {exc.strerror}") from None
    name = raw.decode("utf-8", errors="replace").strip()
    if not name:
        raise RegistryError("CURRENT is empty")
    if len(raw) > MAX_CURRENT_BYTES or not VERSION_PATTERN.match(name) or ".." in name:
        raise RegistryError(f"CURRENT holds an invalid version name {name[:64]!r}")
    if not (root / name).is_dir():
        raise RegistryError(f"CURRENT names version {name!r}, which is not in the registry")
    return name


class ModelRegistry:
    """Holds the live Forecaster; reloads are serialised, validated off the event loop, swapped whole."""

    def __init__(
        self,
        root: Path,
        session_config: SessionConfig,
        on_outcome: Callable[[ReloadOutcome, Forecaster | None], None] = lambda o, f: None,
    ) -> None:
        self.root = root
        self.session_config = session_config
        self.current: Forecaster | None = None
        self.last_problem = "no model yet"
        self._last_refusal = ""
        self._on_outcome = on_outcome
        self._lock = asyncio.Lock()

    async def reload(self, force: bool = False) -> ReloadOutcome:
        """Loads the version CURRENT names if it is new (or `force`); a bad one leaves the old serving."""
        if force:
            self._last_refusal = ""
        async with self._lock:
            outcome = await asyncio.to_thread(self._reload_blocking, force)
        self._on_outcome(outcome, self.current)
        return outcome

    def _reload_blocking(self, force: bool) -> ReloadOutcome:
        previous = self.current.version if self.current else None
        try:
            version = read_current(self.root)
        except RegistryError as exc:
            return self._refuse(None, previous, str(exc))
        if version == previous and not force:
            self._last_refusal = ""
            return ReloadOutcome("unchanged", version, previous)
        try:
            forecaster = load_forecaster(self.root / version, version, self.session_config)
        except ModelError as exc:
            return self._refuse(version, previous, f"model {version!r} refused: {exc}")
        self.current = forecaster  # one reference assignment: requests see the old model or the new one
        self.last_problem = ""
        log.info(
            "model %s loaded in %.3fs on %s (was %s)",
            version,
            forecaster.load_seconds,
            forecaster.providers,
            previous,
        )
        return ReloadOutcome("loaded", version, previous)

    def _refuse(self, version: str | None, previous: str | None, reason: str) -> ReloadOutcome:
        if self.current is None:
            self.last_problem = reason
        if reason == self._last_refusal:  # a poll seeing the same problem again: said once is enough
            return ReloadOutcome("unchanged", version, previous, reason)
        self._last_refusal = reason
        log.warning("%s; %s", reason, f"still serving {previous}" if previous else "not ready")
        return ReloadOutcome("refused", version, previous, reason)

    async def watch(self, interval: float) -> None:
        """Polls CURRENT every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload()
            except Exception:  # the poller must outlive any one bad reload
                log.exception("registry poll failed")
