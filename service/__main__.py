"""`python -m service`: settings -> logging -> provider check -> uvicorn."""

from __future__ import annotations

import logging
import signal
import sys

import uvicorn
from pydantic import ValidationError
from pydantic_settings import SettingsError

from service.app import create_app
from service.config import Settings
from service.cuda import resolve_providers
from service.forecaster import CPU, ProviderError
from service.listener import ListenError, bind_listener
from service.logs import configure_logging

log = logging.getLogger("service")


def refuse(reason: object) -> int:
    """Logs and prints one line for a problem found before serving; exit code 2."""
    sys.stderr.write(f"error: {reason}\n")  # one write: the log thread may write beside it
    sys.stderr.flush()
    log.error("%s", reason)
    return 2


def main() -> int:
    """Runs the service until SIGINT/SIGTERM; exit 2 on bad settings, an unavailable provider or port."""
    try:
        settings = Settings()
    except (ValidationError, SettingsError) as exc:
        print(f"error: invalid FORECAST_* setting:\n{exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        providers = resolve_providers(settings.providers)  # a CUDA session is proven before anything serves
    except ProviderError as exc:
        return refuse(exc)
    if providers == [CPU] and settings.providers == "auto":
        settings = settings.model_copy(update={"providers": "cpu"})
    try:
        listener = bind_listener(settings.host, settings.port)  # before the model loads: fail fast
    except ListenError as exc:
        return refuse(exc)
    log.info(
        "starting on %s:%d with providers %s, registry %s",
        settings.host,
        settings.port,
        providers,
        settings.model_dir,
    )
    # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, to the handler that was there before
    # it started; a no-op one there makes a completed graceful shutdown exit 0, as orchestrators expect.
    app = create_app(settings)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    config = uvicorn.Config(
        app,
        log_config=None,  # configure_logging above: uvicorn's loggers propagate to our root
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    uvicorn.Server(config).run(sockets=[listener])
    return 0


if __name__ == "__main__":
    sys.exit(main())
