"""Request validation and the window checks, with the messages a client sees."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pydantic import ValidationError

from service.errors import InvalidInput
from service.schemas import PredictRequest, check_dates, next_business_day, windows_array


def window(n: int = 5, start: float = 100.0) -> list[float]:
    return [start + i for i in range(n)]


def test_single_and_batch_become_float32_arrays() -> None:
    single = windows_array(PredictRequest(window=window()), 5, 10)
    assert single.shape == (1, 5) and single.dtype == np.float32
    batch = windows_array(PredictRequest(windows=[window(), window(start=7)]), 5, 10)
    assert batch.shape == (2, 5) and batch[1, 0] == 7


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "send exactly one of 'window'"),
        ({"window": [1.0], "windows": [[1.0]]}, "send exactly one of 'window'"),
        ({"windows": [[1.0]], "dates": ["2020-01-01"]}, "'dates' goes with 'window'"),
        ({"window": ["1.5"]}, "valid number"),
        ({"window": [True]}, "valid number"),
        ({"window": [None]}, "valid number"),
        ({"window": [[1.0]]}, "valid number"),
        ({"window": [1.0], "extra": 1}, "Extra inputs are not permitted"),
    ],
)
def test_request_shape_errors(body: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PredictRequest.model_validate(body)


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"window": window(4)}, "'window' has 4 prices; this model expects exactly 5"),
        ({"windows": [window(), window(6)]}, "windows[1] has 6 prices; this model expects exactly 5"),
        ({"windows": []}, "'windows' holds 0 windows; send 1 to 3"),
        ({"windows": [window()] * 4}, "'windows' holds 4 windows; send 1 to 3"),
        ({"window": [1, 2, 0, 4, 5]}, "window[2] is 0.0; prices must be positive finite"),
        ({"window": [1, 2, 3, -4, 5]}, "window[3] is -4.0"),
        ({"window": [1, 2, 3, 4, float("nan")]}, "window[4] is nan"),
        ({"windows": [window(), [1, float("inf"), 3, 4, 5]]}, "windows[1][1] is inf"),
        ({"window": [1, 2, 3, 4, 1e39]}, "window[4] is 1e+39"),  # finite in float64, inf in float32
    ],
)
def test_value_errors_name_the_index(request_body: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        windows_array(PredictRequest.model_validate(request_body), 5, 3)
    assert message in info.value.message


def test_dates_must_match_and_increase() -> None:
    days = [dt.date(2024, 1, d) for d in range(1, 6)]
    check_dates(days, 5)
    with pytest.raises(InvalidInput, match="'dates' has 4 dates; it must have one per price"):
        check_dates(days[:4], 5)
    with pytest.raises(InvalidInput, match=r"dates\[2\] \(2024-01-02\) is not after"):
        check_dates([days[0], days[1], days[1], days[3], days[4]], 5)


@pytest.mark.parametrize(
    ("day", "expected"),
    [("2024-01-05", "2024-01-08"), ("2024-01-06", "2024-01-08"), ("2024-01-08", "2024-01-09")],
)
def test_next_business_day_skips_weekends(day: str, expected: str) -> None:
    assert next_business_day(dt.date.fromisoformat(day)).isoformat() == expected
