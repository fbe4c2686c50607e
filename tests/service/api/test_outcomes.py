"""POST /outcomes and GET /calibration through the app: realised prices scored (by id, or by series and date),
all or nothing, the first outcome counts, a token when configured, one-line errors; and live calibration."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import make_client


def window(day: int, n: int = 60) -> list[float]:
    prices = 100 * np.exp(np.cumsum(np.random.default_rng(4).normal(0, 0.01, 400)))
    return [round(float(p), 4) for p in prices[day - n : day]]


@pytest.fixture
def app(registry_copy: tuple[Path, str, str]) -> Iterator[TestClient]:
    with make_client(registry_copy[0], outcomes_token="t0k3n") as client:
        yield client


AUTH = {"Authorization": "Bearer t0k3n"}


def test_an_outcome_by_id_scores_its_forecast_once(app: TestClient) -> None:
    answer = app.post("/predict", json={"window": window(100), "series": "spx", "as_of": "2019-01-02"}).json()
    posted = app.post("/outcomes", json={"forecast_id": answer["forecast_id"], "price": 101.25}, headers=AUTH)
    assert posted.status_code == 200 and posted.json() == {"scored": 1, "already_scored": 0}
    again = app.post("/outcomes", json={"forecast_id": answer["forecast_id"], "price": 101.25}, headers=AUTH)
    assert again.json() == {"scored": 0, "already_scored": 1}
    other = app.post("/outcomes", json={"forecast_id": answer["forecast_id"], "price": 99.0}, headers=AUTH)
    assert other.status_code == 409 and other.json()["code"] == "outcome_conflict"
    assert "scored with the price 101.25 already; the first outcome counts" in other.json()["error"]
    (row,) = app.get("/calibration", params={"series": "spx"}).json()["series"]
    assert row["scored"] == 1 and row["series"] == "spx"


def test_outcomes_by_series_and_date_all_or_none(app: TestClient) -> None:
    app.post(
        "/predict", json={"windows": [window(100), window(200)], "series": ["a", "b"], "as_of": ["2019-01-04"] * 2}
    )
    wanted = {
        "outcomes": [
            {"series": "a", "date": "2019-01-07", "price": 100.5},
            {"series": "b", "date": "2019-01-08", "price": 1.0},
        ]
    }
    refused = app.post("/outcomes", json=wanted, headers=AUTH)  # b's forecast was for the 7th (Friday -> Monday)
    assert refused.status_code == 404 and "series 'b' on 2019-01-08" in refused.json()["error"]
    assert app.get("/calibration").json() == {"series": []}  # a was not scored either
    wanted["outcomes"][1]["date"] = "2019-01-07"
    assert app.post("/outcomes", json=wanted, headers=AUTH).json() == {"scored": 2, "already_scored": 0}


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"forecast_id": "x", "price": -1.0}, "price is -1.0; a price must be a positive finite number"),
        ({"forecast_id": "x", "price": "12"}, "price: Input should be a valid number"),
        ({"series": "a", "price": 1.0}, "'series' and 'date' go together"),
        ({"series": "a", "date": "yesterday", "price": 1.0}, "date: Input should be a valid date"),
        ({"series": "a\u0007", "date": "2019-01-02", "price": 1.0}, "series holds a control character"),
        ({"series": "a" * 201, "date": "2019-01-02", "price": 1.0}, "201 characters; at most 200"),
        ({"series": "a\ud800", "date": "2019-01-02", "price": 1.0}, "series holds an unpaired surrogate"),
        ({"forecast_id": "x", "price": 1.0, "extra": 1}, "extra: Extra inputs are not permitted"),
        ({"outcomes": []}, "outcomes: List should have at least 1 item"),
        ('{"outcomes": [{"forecast_id": "x", "price": 1e309}]}', "outcomes[0].price is inf"),
        ("", "the body: Input should be a valid dictionary"),
    ],
)
def test_a_bad_outcome_is_a_422_naming_what_to_fix(app: TestClient, body: dict | str, said: str) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    answer = app.post("/outcomes", content=raw, headers={**AUTH, "content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_input"
    assert said in answer.json()["error"] and "\n" not in answer.json()["error"]


def test_an_unknown_forecast_is_a_404_and_a_wrong_token_a_401(app: TestClient) -> None:
    unknown = app.post("/outcomes", json={"forecast_id": "0" * 32, "price": 1.0}, headers=AUTH)
    assert unknown.status_code == 404 and "no recorded forecast for forecast_id '000" in unknown.json()["error"]
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        denied = app.post("/outcomes", json={"forecast_id": "0" * 32, "price": 1.0}, headers=headers)
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"


def test_windows_alone_are_matched_and_calibration_follows_a_forecast_id(app: TestClient) -> None:
    answers = [app.post("/predict", json={"window": window(day)}).json() for day in range(100, 131)]
    rows = app.get("/calibration", params={"forecast_id": answers[-1]["forecast_id"]}).json()["series"]
    assert len(rows) == 1 and rows[0]["scored"] == 30 and rows[0]["series"].startswith("window-")
    assert set(rows[0]) >= {"coverage", "hit_rate", "pinball", "kupiec_p", "christoffersen_p", "last_250"}
    assert app.get("/calibration", params={"forecast_id": "nope"}).status_code == 404


def test_with_recording_off_there_is_nothing_to_score(registry_copy: tuple[Path, str, str]) -> None:
    with make_client(registry_copy[0], record=False) as client:
        answer = client.post("/predict", json={"window": window(100)}).json()
        assert "forecast_id" not in answer
        assert client.get("/calibration").status_code == 404
        assert client.post("/outcomes", json={"forecast_id": "x", "price": 1.0}).status_code == 404


def test_calibration_gives_rolling_coverage_and_the_busiest_series_on_request(app: TestClient) -> None:
    ids: list[str] = []
    for day in range(60, 330):  # 270 days of one named series (269 scored), 4 of another (3 scored by their windows)
        if day > 60:  # today's price scores yesterday's forecast
            app.post("/outcomes", json={"forecast_id": ids[-1], "price": window(day)[-1]}, headers=AUTH)
        ids.append(app.post("/predict", json={"window": window(day), "series": "long"}).json()["forecast_id"])
    for day in range(100, 104):
        app.post("/predict", json={"window": window(day), "series": "short"})
    plain = app.get("/calibration").json()["series"]
    assert [r["scored"] for r in plain] == [269, 3] and "rolling" not in plain[0]
    (row,) = app.get("/calibration", params={"rolling": "true", "most": 1}).json()["series"]
    drawn = row["rolling"]
    assert row["series"] == "long" and row["scored"] == 269 and drawn["windows"] == 20 and drawn["day"][-1] == 269
    assert drawn["band"] == {"0.8": [0.75, 0.85], "0.95": [0.925, 0.975]}
    assert drawn["coverage"]["0.8"][-1] == pytest.approx(row["last_250"]["coverage"]["0.8"], abs=1e-12)
    assert app.get("/calibration", params={"most": 0}).status_code == 422
