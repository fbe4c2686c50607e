"""One path from windows to answers for every route: the live model or a 503, the batcher, the deadline."""

from __future__ import annotations

from typing import Any

import numpy as np
from starlette.datastructures import State

from service.errors import NotReady, ServiceError
from service.model.forecaster import Forecaster
from service.model.registry import ModelRegistry


def live_model(registry: ModelRegistry, errors: type[ServiceError] = ServiceError) -> Forecaster:
    """The model serving now; a 503 with the reason, in the caller's error family, when there is none."""
    model = registry.current
    if model is None:
        raise NotReady(f"not ready: {registry.last_problem}", headers={"Retry-After": "5"}).recast(errors)
    return model


async def forecast(
    state: State,
    model: Forecaster,
    windows: np.ndarray,
    request_state: dict[str, Any],
    errors: type[ServiceError] = ServiceError,
) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts (n, h) and quantiles (n, h, Q) from the shared batcher within the request deadline.

    Every failure (too many windows: the batcher's own limit, overload, timeout, a failed run) is raised in the
    caller's error family, so each route answers in its own shape with the same status and failure label.
    """
    settings = state.settings
    try:
        request_state["batch_size"], request_state["model_version"] = len(windows), model.version
        return await state.batcher.submit(model, windows, settings.request_timeout_ms / 1000)
    except ServiceError as exc:
        raise exc.recast(errors) from None
