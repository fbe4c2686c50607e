"""The answers to /predict: ids and adaptive factors added to single and batch answers, and what a request says
of each window's series and dates."""

from __future__ import annotations

import numpy as np

from service.api.answers import asked_of, build_answer
from service.api.schemas import PredictRequest
from service.inference.recording import Kept


class Model:
    version, quantiles = "v1", [0.1, 0.5, 0.9]


def test_a_single_answer_carries_its_id_and_factors() -> None:
    body = PredictRequest(window=[1.0] * 3)
    kept = Kept(["a" * 32], np.array([[[9.0, 10.0, 11.0]]]), [{"0.8": 1.1}])
    found = build_answer(body, Model(), np.array([[10.0]]), kept)  # type: ignore[arg-type]
    assert found["forecast_id"] == "a" * 32 and found["adaptive"] == {"0.8": 1.1} and found["forecast"] == 10.0


def test_a_batch_answer_carries_one_id_per_window_and_none_without_recording() -> None:
    body = PredictRequest(windows=[[1.0] * 3] * 2)
    quantiles = np.array([[[9.0, 10.0, 11.0]], [[19.0, 20.0, 21.0]]])
    found = build_answer(body, Model(), np.array([[10.0], [20.0]]), Kept(["a", "b"], quantiles, None))  # type: ignore[arg-type]
    assert found["forecast_ids"] == ["a", "b"] and "adaptive" not in found
    bare = build_answer(body, Model(), np.array([[10.0], [20.0]]), Kept(None, quantiles, None))  # type: ignore[arg-type]
    assert "forecast_ids" not in bare


def test_as_of_defaults_to_the_last_date_and_the_target_is_the_next_weekday() -> None:
    body = PredictRequest(window=[1.0] * 2, dates=["2019-01-03", "2019-01-04"], series="spx")
    assert asked_of(body, 1).__dict__ == {"names": ["spx"], "as_of": ["2019-01-04"], "target": ["2019-01-07"]}
    batch = PredictRequest(windows=[[1.0] * 2] * 2, series=["a", "b"], as_of=["2019-01-02", "2019-01-03"])
    assert asked_of(batch, 2).target == ["2019-01-03", "2019-01-04"]
    assert asked_of(PredictRequest(window=[1.0]), 1).__dict__ == {"names": [""], "as_of": [None], "target": [None]}
