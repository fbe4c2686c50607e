"""Requests whose windows differ in length: one array per length, each run and recorded alone, answered in order."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from starlette.datastructures import State

from service.errors import ServiceError
from service.inference import forecasting, recording
from service.inference.recording import Asked, Kept
from service.model.forecaster import Forecaster

Windows = np.ndarray | list[np.ndarray]  # one (n, T[, F]) array, or one (T[, F]) array per window of mixed lengths


def by_length(windows: list[np.ndarray]) -> list[list[int]]:
    """The positions of the windows of each length, shortest first."""
    groups: dict[int, list[int]] = {}
    for i, row in enumerate(windows):
        groups.setdefault(len(row), []).append(i)
    return [groups[n] for n in sorted(groups)]


async def answer(
    state: State,
    model: Forecaster,
    windows: Windows,
    request_state: dict[str, Any],
    asked: Asked,
    errors: type[ServiceError] = ServiceError,
) -> tuple[np.ndarray, Kept]:
    """Forecasts (n, h) and what was kept (ids, quantiles, adaptive factors), in the request's order.

    Windows of one length run as one array through the batcher, which batches each length apart: a window's
    answer is the same whatever else was asked with it.
    """
    if isinstance(windows, np.ndarray):
        forecasts, quantiles = await forecasting.forecast(state, model, windows, request_state, errors)
        return forecasts, await recording.keep(state, model, windows, quantiles, asked)
    groups = by_length(windows)
    parts = await asyncio.gather(
        *(
            answer(state, model, np.stack([windows[i] for i in rows]), {}, subset(asked, rows), errors)
            for rows in groups
        )
    )
    request_state["batch_size"], request_state["model_version"] = len(windows), model.version
    back = np.argsort(np.concatenate(groups), kind="stable")  # for each position, its row in the groups joined
    return np.concatenate([f for f, _ in parts])[back], merged(back, [kept for _, kept in parts])


def subset(asked: Asked, rows: list[int]) -> Asked:
    """What the request said about the windows at these positions."""
    return Asked([asked.names[i] for i in rows], [asked.as_of[i] for i in rows], [asked.target[i] for i in rows])


def merged(back: np.ndarray, parts: list[Kept]) -> Kept:
    """The groups' kept answers put back in the request's order (`back`: each position's row, groups joined)."""
    quantiles = np.concatenate([k.quantiles for k in parts])[back]
    ids = None if any(k.ids is None for k in parts) else [i for k in parts for i in k.ids or []]
    factors = None if any(k.factors is None for k in parts) else [f for k in parts for f in k.factors or []]
    return Kept(
        None if ids is None else [ids[j] for j in back],
        quantiles,
        None if factors is None else [factors[j] for j in back],
    )
