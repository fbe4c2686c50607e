"""The retraining job on live evidence: a champion whose live intervals miss is retrained even with no new data,
the reasons and the challenger's verdict on the recorded windows are in the history; a store that cannot be read
leaves the decision to the holdout; where the store is found."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from service.ledger.database import Database
from service.ledger.matching import record_batch
from service.ledger.records import Answers
from tests.conftest import train_tiny
from tests.service.ledger.conftest import LEVELS, Z
from tests.training.publish.test_retrain import history, retrain
from training.core.config import RetrainConfig, TrainConfig
from training.core.data import load_training_data
from training.publish.evidence import LiveEvidence, store_of


def serve_days(store: Path, prices: np.ndarray, model: str, sigma: float) -> None:
    """What the service would have recorded answering `prices` day by day with quantiles of volatility sigma."""
    windows = np.stack([prices[t - 60 : t] for t in range(60, len(prices) + 1)]).astype(np.float32)
    served = windows[:, -1:] * np.exp(sigma * np.array(Z))[None, :]
    n = len(windows)
    ids, names, dates = [uuid.uuid4().hex for _ in range(n)], ["sp500"] * n, [None] * n
    answered = Answers(ids, names, dates, dates, model, [time.time()] * n, windows, LEVELS, served, None, None)
    db = Database(str(store))
    record_batch(db, answered.rows(), None)
    db.close_all()


def test_live_miscalibration_retrains_with_no_new_data_and_the_verdict_is_recorded(
    tmp_path: Path, sp500_small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg, store = tmp_path / "reg", tmp_path / "forecasts.sqlite"
    champion = train_tiny(reg, sp500_small)
    prices = load_training_data(TrainConfig(data=[sp500_small]))[0].prices
    serve_days(store, prices, champion, 0.002)  # far too narrow: its intervals miss most days
    assert retrain(reg, sp500_small, "--store", str(store)) == 0
    record = history(reg)[-1]
    assert record["decision"] in ("kept", "promoted")  # trained, not skipped, though the data are the same
    live = record["live"]
    assert live["scored_days"] == len(prices) - 60 and live["store"] == str(store)
    assert [r.split(":")[1].strip().split("'")[0] for r in live["reasons_to_retrain"]] == ["sp500", "sp500"]
    versus = live["challenger_vs_champion"]
    assert versus["days"] == len(prices) - 60 and versus["challenger_better"]  # the tiny model beats those intervals
    out = capsys.readouterr().out
    assert "reason to retrain: live miscalibration: sp500's 80% interval held" in out
    assert "on the live record (reported, not deciding): live: pinball improvement" in out
    if record["decision"] == "promoted":  # the card carries the live verdict beside the holdout's
        card = json.loads((reg / record["current"] / "model.json").read_text())
        assert card["promotion"]["live"]["challenger_vs_champion"]["days"] == versus["days"]


def test_a_calibrated_live_record_lets_unchanged_data_be_skipped(tmp_path: Path, sp500_small: Path) -> None:
    reg, store = tmp_path / "reg", tmp_path / "forecasts.sqlite"
    champion = train_tiny(reg, sp500_small)
    prices = load_training_data(TrainConfig(data=[sp500_small]))[0].prices
    returns = np.diff(np.log(prices))
    serve_days(store, prices, champion, float(returns.std()))
    assert retrain(reg, sp500_small, "--store", str(store)) == 0
    record = history(reg)[-1]
    assert record["decision"] == "skipped" and record["live"]["reasons_to_retrain"] == []
    assert record["reason"].endswith("and its live record holds")


def test_a_store_that_cannot_be_read_leaves_the_holdout_to_decide(tmp_path: Path) -> None:
    broken = tmp_path / "forecasts.sqlite"
    broken.write_bytes(b"not a database at all" * 100)
    found = LiveEvidence.read(RetrainConfig(registry=tmp_path / "reg", store=str(broken)), "v1")
    assert found.record is None and found.reasons == [] and "cannot be read" in found.problem
    assert found.summary() == {"store": str(broken), "scored_days": 0, "note": found.problem}


def test_where_the_store_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = RetrainConfig(registry=tmp_path / "models")
    monkeypatch.delenv("FORECAST_STORE", raising=False)
    assert store_of(config) is None  # no store beside the registry
    (tmp_path / "forecasts.sqlite").touch()  # where the service keeps it by default
    assert store_of(config) == str(tmp_path / "forecasts.sqlite")
    monkeypatch.setenv("FORECAST_STORE", "postgresql://db/forecast")
    assert store_of(config) == "postgresql://db/forecast"
    assert store_of(RetrainConfig(registry=tmp_path, store="/elsewhere.sqlite")) == "/elsewhere.sqlite"
