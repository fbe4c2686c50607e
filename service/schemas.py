"""Request and response models of the HTTP API, and the checks that turn a request into a window array."""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, model_validator

from service.errors import InvalidInput

EXAMPLE_WINDOW = [round(2700 + 3.5 * i + (7 if i % 3 else -5), 2) for i in range(60)]


class PredictRequest(BaseModel):
    """Exactly one of `window` or `windows`; unknown fields are rejected so that typos are not ignored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"window": EXAMPLE_WINDOW},
                {"windows": [EXAMPLE_WINDOW, [p * 0.5 for p in EXAMPLE_WINDOW]]},
            ]
        },
    )

    window: list[StrictFloat] | None = Field(
        None,
        description="One window of positive prices, oldest first, exactly the model's window length.",
    )
    windows: list[list[StrictFloat]] | None = Field(
        None, description="1..FORECAST_MAX_BATCH windows; forecasts come back in the same order."
    )
    dates: list[dt.date] | None = Field(
        None,
        description="ISO dates of `window`'s prices, oldest first; adds `forecast_date` (the next "
        "weekday after the last date; exchange holidays are not known).",
    )

    @model_validator(mode="after")
    def exactly_one_input(self) -> PredictRequest:
        if (self.window is None) == (self.windows is None):
            raise ValueError(
                "send exactly one of 'window' (one list of prices) or 'windows' (a list of lists)"
            )
        if self.dates is not None and self.window is None:
            raise ValueError("'dates' goes with 'window', not with 'windows'")
        return self


class Forecast(BaseModel):
    """The answer to a single `window`."""

    forecast: float = Field(description="Next-day price forecast, in the window's price units.")
    model_version: str
    forecast_date: dt.date | None = Field(None, description="Present when `dates` was sent.")


class BatchForecast(BaseModel):
    """The answer to `windows`: one forecast per window, in order."""

    forecasts: list[float]
    model_version: str


class ErrorResponse(BaseModel):
    """Every error: a message a person can act on and a stable machine-readable code."""

    error: str
    code: str


def windows_array(request: PredictRequest, window: int, max_batch: int) -> np.ndarray:
    """The request's windows as a (n, window) float32 array; every value checked, errors name the index."""
    rows = [request.window] if request.window is not None else request.windows or []
    single = request.window is not None
    if not 1 <= len(rows) <= max_batch:
        raise InvalidInput(f"'windows' holds {len(rows)} windows; send 1 to {max_batch}")
    for i, row in enumerate(rows):
        if len(row) != window:
            where = "'window'" if single else f"windows[{i}]"
            raise InvalidInput(f"{where} has {len(row)} prices; this model expects exactly {window}")
    array = np.asarray(rows, dtype=np.float64)
    with np.errstate(over="ignore"):  # what the model sees: float64 values past float32's range become inf
        values = array.astype(np.float32)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        where = f"window[{col}]" if single else f"windows[{row}][{col}]"
        raise InvalidInput(
            f"{where} is {float(array[row, col])!r}; prices must be positive finite numbers "
            f"(below 3.4e38); {int(bad.sum())} value(s) are not"
        )
    return values


def check_dates(dates: list[dt.date], window: int) -> None:
    """Dates must match the window one to one and increase strictly."""
    if len(dates) != window:
        raise InvalidInput(f"'dates' has {len(dates)} dates; it must have one per price ({window})")
    for i in range(1, len(dates)):
        if dates[i] <= dates[i - 1]:
            raise InvalidInput(f"dates[{i}] ({dates[i]}) is not after dates[{i - 1}] ({dates[i - 1]})")


def next_business_day(day: dt.date) -> dt.date:
    """The next Monday-to-Friday date after `day`."""
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day
