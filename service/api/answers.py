"""The answers to /predict: forecasts, quantiles and intervals per window, their ids, dates and adaptive factors."""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

from service.api.calendar import business_days_after
from service.api.schemas import PredictRequest
from service.errors import InvalidInput
from service.inference.recording import Asked, Kept
from service.model.forecaster import Forecaster

INTERVAL_LEVEL = 0.8  # the interval the answer shows: the 0.1 and 0.9 quantiles


def build_answer(body: PredictRequest, model: Forecaster, forecasts: np.ndarray, kept: Kept) -> dict[str, object]:
    """The response body: one forecast (with quantiles, interval, dates, its id) or one per window, in order."""
    steps = body.horizon  # None: scalars for the next day
    answers = window_answers(forecasts, kept.quantiles, model.quantiles, steps)
    if body.windows is None:
        answer = {**answers[0], "model_version": model.version}
        if body.dates:
            days = business_days_after(body.dates[-1], steps or 1)
            answer.update(
                {"forecast_date": days[0].isoformat()}
                if steps is None
                else {"forecast_dates": [d.isoformat() for d in days]}
            )
        if kept.ids:
            answer["forecast_id"] = kept.ids[0]
        if kept.factors:
            answer["adaptive"] = kept.factors[0]
        return answer
    batch: dict[str, object] = {"forecasts": [a["forecast"] for a in answers], "model_version": model.version}
    if model.quantiles:
        batch["quantiles"] = [a["quantiles"] for a in answers]
        if "interval" in answers[0]:
            batch["intervals"] = [a["interval"] for a in answers]
    if kept.ids:
        batch["forecast_ids"] = kept.ids
    if kept.factors:
        batch["adaptive"] = kept.factors
    return batch


def asked_of(body: PredictRequest, n: int) -> Asked:
    """Each window's series name and dates: `series`, and `as_of` (by default the last of `dates`)."""
    names = body.series if isinstance(body.series, list) else [body.series or ""] * n
    as_of = body.as_of if isinstance(body.as_of, list) else [body.as_of or (body.dates[-1] if body.dates else None)]
    days = [d.isoformat() if d else None for d in as_of] * (n // len(as_of))
    targets = [business_days_after(d, 1)[0].isoformat() if d else None for d in as_of] * (n // len(as_of))
    return Asked(names, days, targets)


@functools.lru_cache(maxsize=64)
def level_keys(levels: tuple[float, ...]) -> tuple[list[str], tuple[int, int] | None]:
    """The answer's quantile keys ('0.025', '0.1', ...) and where the 80% band's ends sit, per level list."""
    band = (levels.index(0.1), levels.index(0.9)) if 0.1 in levels and 0.9 in levels else None
    return [f"{q:g}" for q in levels], band


def window_answers(
    forecasts: np.ndarray, quantiles: np.ndarray, levels: list[float], steps: int | None
) -> list[dict[str, object]]:
    """Per window: forecast, quantiles by level and the 80% interval; scalars when steps is None, else lists.

    forecasts (n, h) and quantiles (n, h, Q) become Python floats with one tolist() each, and the rest is
    plain Python: a single-window answer costs a few microseconds, a 1,024-window one a few milliseconds.
    """
    h = 1 if steps is None else steps
    keys, band = level_keys(tuple(levels))
    answers = []
    rows = zip(forecasts[:, :h].tolist(), quantiles[:, :h, :].tolist(), strict=True)
    for i, (point, per_step) in enumerate(rows):
        if not all(map(math.isfinite, itertools.chain(point, *per_step))):
            raise InvalidInput(f"the model gave no finite forecast for window {i}; its values span too wide a range")
        # per_step: h lists of Q values; by_level: one value (or one list of h) per level
        by_level: list[Any] = per_step[0] if steps is None else [list(v) for v in zip(*per_step, strict=True)]
        answer: dict[str, object] = {"forecast": point[0] if steps is None else point}
        if keys:
            answer["quantiles"] = dict(zip(keys, by_level, strict=True))
            if band is not None:
                answer["interval"] = {"level": INTERVAL_LEVEL, "lower": by_level[band[0]], "upper": by_level[band[1]]}
        answers.append(answer)
    return answers
