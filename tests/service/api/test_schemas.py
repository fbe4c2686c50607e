"""Request validation and the window checks, with the messages a client sees."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from service.api.answers import window_answers
from service.api.calendar import check_dates, next_business_day
from service.api.schemas import PredictRequest, request_array
from service.errors import InvalidInput
from service.model.forecaster import Forecaster, load_forecaster
from service.model.sessions import SessionConfig


@pytest.fixture(scope="module")
def model(model_pair: tuple[Path, str, str]) -> Forecaster:
    registry, _, version = model_pair
    return load_forecaster(registry / version, version, SessionConfig("cpu", 1))


def window(n: int = 60, start: float = 100.0) -> list[float]:
    return [start + i for i in range(n)]


def with_value(index: int, value: float) -> list[float]:
    w = window()
    w[index] = value
    return w


def test_single_and_batch_become_float32_arrays(model: Forecaster) -> None:
    single = request_array(PredictRequest(window=window()), model, 10)
    assert single.shape == (1, 60) and single.dtype == np.float32
    batch = request_array(PredictRequest(windows=[window(), window(start=7)]), model, 10)
    assert batch.shape == (2, 60) and batch[1, 0] == 7
    assert request_array(PredictRequest(features={"close": window()}), model, 10).shape == (1, 60)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "send exactly one of 'window'"),
        ({"window": [1.0], "windows": [[1.0]]}, "send exactly one of 'window'"),
        ({"window": [1.0], "features": {"close": [1.0]}}, "send exactly one of 'window'"),
        ({"windows": [[1.0]], "dates": ["2020-01-01"]}, "'dates' goes with 'window' or 'features'"),
        ({"window": [1.0], "horizon": 0}, "greater than or equal to 1"),
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
        ({"window": window(4)}, "'window' has 4 prices; this model reads 60 to 300"),
        ({"windows": [window(), window(301)]}, "windows[1] has 301 prices; this model reads 60 to 300"),
        ({"windows": []}, "'windows' holds 0 windows; send 1 to 3"),
        ({"windows": [window()] * 4}, "'windows' holds 4 windows; send 1 to 3"),
        ({"window": with_value(2, 0)}, "window[2] is 0.0; values must be positive finite"),
        ({"window": with_value(3, -4)}, "window[3] is -4.0"),
        ({"window": with_value(4, float("nan"))}, "window[4] is nan"),
        ({"windows": [window(), with_value(1, float("inf"))]}, "windows[1][1] is inf"),
        ({"window": with_value(59, 1e39)}, "window[59] is 1e+39"),  # finite in float64, inf in float32
        ({"features": {"close": window(), "volume": window()}}, "unexpected ['volume']"),
        ({"features": {"volume": window()}}, "missing ['close']; unexpected ['volume']"),
        ({"features": {"close": window(3)}}, "features.close has 3 values"),
    ],
)
def test_value_errors_name_the_index(model: Forecaster, request_body: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        request_array(PredictRequest.model_validate(request_body), model, 3)
    assert message in info.value.message


def test_answers_hold_quantiles_and_the_80_percent_interval() -> None:
    levels = [0.025, 0.1, 0.5, 0.9, 0.975]
    q = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [1.5, 2.5, 3.5, 4.5, 5.5]])  # (h=2, Q)
    (one,) = window_answers(np.array([[3.0, 3.5]]), q[None], levels, None)
    assert one == {
        "forecast": 3.0,
        "quantiles": {"0.025": 1.0, "0.1": 2.0, "0.5": 3.0, "0.9": 4.0, "0.975": 5.0},
        "interval": {"level": 0.8, "lower": 2.0, "upper": 4.0},
    }
    (two,) = window_answers(np.array([[3.0, 3.5]]), q[None], levels, 2)
    assert two["forecast"] == [3.0, 3.5] and two["quantiles"]["0.1"] == [2.0, 2.5]
    assert two["interval"] == {"level": 0.8, "lower": [2.0, 2.5], "upper": [4.0, 4.5]}


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
