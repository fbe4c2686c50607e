"""create_app(settings): the app, its middleware, and a lifespan that loads the model and runs the batcher."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from prometheus_client import multiprocess

from service import __version__, collector
from service.api import oip, outcomes, page, timeseries
from service.api.oip_schemas import InferenceRequest
from service.api.rest import router
from service.api.schemas import PredictRequest
from service.api.timeseries_schemas import ForecastRequest
from service.config import Settings
from service.errors import install_error_handlers
from service.http.fastpath import PredictFastPath
from service.http.logs import configure_logging
from service.http.middleware import ASGIApp, BodyLimit, HeadAsGet, RequestObserver, RouteLabels
from service.inference.batching import Batcher
from service.ledger.ledger import Ledger
from service.metrics import ServiceMetrics, multiprocess_dir
from service.model.forecaster import Forecaster
from service.model.registry import ModelRegistry, ReloadOutcome
from service.model.sessions import SessionConfig

log = logging.getLogger(__name__)


def model_observer(metrics: ServiceMetrics) -> Callable[[ReloadOutcome, Forecaster | None], None]:
    """Keeps the model metrics in step with every reload outcome."""

    def observe(outcome: ReloadOutcome, current: Forecaster | None) -> None:
        if outcome.status == "loaded":
            metrics.reloads.labels("success").inc()
        elif outcome.status == "refused":
            metrics.reloads.labels("failure").inc()
        metrics.ready.set(1 if current else 0)
        if current is not None:
            metrics.show(metrics.model, current.version)
            metrics.show(metrics.provider, current.providers[0], ",".join(current.requested))
            metrics.load_seconds.set(current.load_seconds)

    return observe


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start: load the model (if any), start the batcher and the registry poller. Stop: the reverse."""
    settings: Settings = app.state.settings
    registry: ModelRegistry = app.state.registry
    await registry.reload()
    collector.settle()
    # Whoever waits for the GIL gets it after this long: after each run the inference thread needs it for a
    # moment, and behind a busy event loop Python's default 5 ms made batches wait longer than they ran.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(settings.switch_interval_ms / 1000)
    app.state.batcher.start()
    if app.state.ledger is not None:
        app.state.ledger.start()
    poller = None
    if settings.reload_seconds > 0:
        poller = asyncio.create_task(registry.watch(settings.reload_seconds), name="registry-poller")
    try:
        yield
    finally:
        if poller:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        await app.state.batcher.stop()
        if app.state.ledger is not None:  # what was answered is written before the process ends
            await asyncio.to_thread(app.state.ledger.stop)
        sys.setswitchinterval(switch_interval)
        if multiprocess_dir():  # this worker's live gauges leave the sums
            multiprocess.mark_process_dead(os.getpid())


def document_request_bodies(app: FastAPI) -> None:
    """Adds the schemas of bodies that routes parse themselves (see api.predict) to the OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (PredictRequest, ForecastRequest, InferenceRequest, outcomes.OutcomesRequest):
                definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(definition.pop("$defs", {}))
                schemas[model.__name__] = definition
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def worker_app() -> FastAPI:
    """The app of one worker process (FORECAST_WORKERS > 1): settings from the environment the parent set."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)


ROUTERS = (router, oip.router, timeseries.router, outcomes.router, page.router)


def create_app(settings: Settings) -> FastAPI:
    """The whole service for these settings; nothing heavy happens until the lifespan starts."""
    threads = settings.threads_per_worker()
    metrics = ServiceMetrics()
    app = ForecastAPI(
        title="lstm-forecast",
        version=__version__,
        description="Next-day price forecasts from a stacked LSTM served with onnxruntime. "
        "Every forecast should be read next to the naive one (tomorrow = today): see /model's metrics.",
        lifespan=lifespan,
        docs_url=None,  # page.router serves /docs and /redoc with their scripts from /static/vendor, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    sessions = SessionConfig(
        settings.providers,
        threads,
        settings.gpu_min_batch,
        settings.cuda_graphs,
        settings.max_batch,
        settings.parallel_min_batch,
    )
    app.state.registry = ModelRegistry(settings.model_dir, sessions, model_observer(metrics))
    app.state.batcher = Batcher(
        settings.max_batch, settings.batch_wait_ms / 1000, settings.max_queue, metrics, settings.inference_nice
    )
    app.state.ledger = Ledger(settings, metrics) if settings.record else None
    for included in ROUTERS:
        app.include_router(included)
    app.mount("/static", StaticFiles(directory=page.STATIC), name="static")
    document_request_bodies(app)
    install_error_handlers(app)
    app.outer = functools.partial(outer_layers, app, settings)
    return app


class ForecastAPI(FastAPI):
    """FastAPI with the service's own ASGI layers outside its whole stack: request ids, the access log and
    the metrics see every answer, and /predict is answered before FastAPI's middleware and router run."""

    outer: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        return self.outer(inner) if self.outer else inner


def outer_layers(app: FastAPI, settings: Settings, inner: ASGIApp) -> ASGIApp:
    """RequestObserver (outermost: sees 413/415 too) -> BodyLimit -> CORS -> the /predict fast path -> HEAD as GET
    -> FastAPI."""
    inner = HeadAsGet(inner)  # inside the fast path: POST /predict never passes through it
    if settings.fast_path:
        predict_route = next(r for r in router.routes if getattr(r, "path", None) == "/predict")
        inner = PredictFastPath(inner, app, predict_route)
    if settings.cors_origins:
        inner = CORSMiddleware(
            inner,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization", "X-Request-ID"],
        )
    observed = BodyLimit(inner, max_bytes=settings.max_body_bytes)
    routes = [*app.routes, *(r for included in ROUTERS for r in included.routes)]
    return RequestObserver(observed, metrics=app.state.metrics, labels=RouteLabels(routes))
