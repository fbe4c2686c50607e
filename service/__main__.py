"""`python -m service`: settings -> logging -> provider check -> uvicorn."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from pydantic_settings import SettingsError
from uvicorn.supervisors import Multiprocess

from service.app import create_app
from service.cli import FLAGS, PREFIX, SettingsProblem, env_name, settings_from, sources, unknown_variables
from service.config import Settings
from service.http.logs import configure_logging
from service.model.cuda import resolve_providers
from service.model.sessions import CPU, ProviderError
from service.server.listener import REUSE_PORT, ListenError, WorkerSockets, bind_listener, note_request_migration
from service.server.transport import HttpProtocol

log = logging.getLogger("service")


def refuse(reason: object) -> int:
    """Prints one line for a problem found before serving (not logged too: one line, not two); exit code 2."""
    sys.stderr.write(f"error: {reason}\n")  # one write: the log thread may write beside it
    sys.stderr.flush()
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the service until SIGINT/SIGTERM; exit 2 on bad settings or flags, an unavailable provider or port."""
    try:
        settings = settings_from(argv)
    except SettingsProblem as exc:
        return refuse("\nerror: ".join(exc.lines))
    except SettingsError as exc:  # a value pydantic-settings cannot even decode
        return refuse(f"invalid {PREFIX}* setting: {str(exc).splitlines()[0]}")
    configure_logging(settings.log_level)
    for warning in unknown_variables():
        log.warning("%s", warning)
    try:
        providers = resolve_providers(settings.providers)  # a CUDA session is proven before anything serves
    except ProviderError as exc:
        return refuse(exc)
    if providers == [CPU] and settings.providers == "auto":
        settings = settings.model_copy(update={"providers": "cpu"})
    try:
        # before the model loads: fail fast
        group = settings.worker_count() > 1
        listener = bind_listener(settings.host, settings.port, group=group, sources=sources(argv))
    except ListenError as exc:
        return refuse(exc)
    workers = settings.worker_count()
    log.info(
        "starting on %s:%d with providers %s, registry %s, %d worker(s)",
        settings.host,
        settings.port,
        providers,
        settings.model_dir,
        workers,
    )
    if workers == 1:
        serve_one(settings, listener)
        return 0
    try:
        metrics_dir = metrics_directory()
    except OSError as exc:
        return refuse(f"cannot prepare the metrics directory of {workers} workers: {exc}; set PROMETHEUS_MULTIPROC_DIR")
    serve_workers(settings, listener, workers, metrics_dir)
    return 0


def metrics_directory() -> Path:
    """PROMETHEUS_MULTIPROC_DIR, or a new temporary directory; emptied of earlier runs' files."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="forecast-metrics-"))
    clear_directory(directory)  # stale files from an earlier run would be summed in
    return directory


def serve_one(settings: Settings, listener: socket.socket) -> None:
    """This process serves: one event loop, one session, one batcher."""
    # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, to the handler that was there before
    # it started; a no-op one there makes a completed graceful shutdown exit 0, as orchestrators expect.
    app = create_app(settings)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    uvicorn.Server(uvicorn_config(app)).run(sockets=[listener])


def serve_workers(settings: Settings, listener: socket.socket, workers: int, metrics_dir: Path) -> None:
    """`workers` processes accept on the one listening socket; this one supervises them (uvicorn's
    Multiprocess: SIGTERM drains every worker, SIGHUP replaces them one by one, a dead one is restarted)."""
    # Workers are spawned: they read their settings from the environment, as this process resolved them.
    os.environ.update(
        {
            **{env_name(field): str(getattr(settings, field)) for field in FLAGS},  # flags given to this process
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "FORECAST_PROVIDERS": settings.providers,
            "FORECAST_INTRA_OP_THREADS": str(settings.threads_per_worker()),
            "FORECAST_WORKERS": "1",
        }
    )
    config = uvicorn_config("service.app:worker_app", factory=True, workers=workers)
    if REUSE_PORT:
        note_request_migration()
    try:
        Multiprocess(config, sockets=WorkerSockets([listener])).run()
    finally:
        clear_directory(metrics_dir)
        if "forecast-metrics-" in metrics_dir.name:
            metrics_dir.rmdir()


def uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_config=None,  # configure_logging: uvicorn's loggers propagate to our root
        access_log=False,
        timeout_graceful_shutdown=30,
        http=HttpProtocol,  # uvicorn's httptools protocol, with the shutdown fix
        **options,
    )


def clear_directory(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
