"""The service's answers as typed values: single and batch, intervals by level, a malformed answer refused."""

from __future__ import annotations

import datetime as dt

import pytest

from client.answers import Interval, one_forecast
from client.errors import BadResponse

SINGLE = {
    "forecast": 100.0,
    "quantiles": {"0.025": 95.0, "0.1": 97.0, "0.5": 100.0, "0.9": 103.0, "0.975": 105.0},
    "interval": {"level": 0.8, "lower": 97.0, "upper": 103.0},
    "model_version": "v1",
    "forecast_date": "2019-01-02",
}


def test_a_single_answer_with_its_intervals() -> None:
    found = one_forecast(SINGLE)
    assert found.forecast == 100.0 and found.interval == Interval(0.8, 97.0, 103.0)
    assert found.between(0.95) == Interval(0.95, 95.0, 105.0) and found.between(0.5) is None
    assert found.forecast_date == dt.date(2019, 1, 2) and found.quantiles[0.025] == 95.0


def test_one_window_of_a_batch_answer() -> None:
    batch = {"forecasts": [1.0, 2.0], "quantiles": [{"0.5": 1.0}, {"0.5": 2.0}], "model_version": "v2"}
    second = one_forecast(batch, 1)
    assert (second.forecast, second.quantiles, second.interval, second.model_version) == (2.0, {0.5: 2.0}, None, "v2")


@pytest.mark.parametrize("body", [{}, {"forecast": "x", "model_version": "v"}, {"forecast": 1.0}])
def test_an_answer_that_is_not_a_forecast_is_a_bad_response(body: dict) -> None:
    with pytest.raises(BadResponse, match="the answer is not a forecast"):
        one_forecast(body)
