"""Keeping score of answers: an id per window and a record handed to the ledger; nothing without a ledger; with
adaptive intervals, the next-day quantiles scaled by the series' state."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from starlette.datastructures import State

from service.config import Settings
from service.inference.recording import Asked, keep, unasked
from service.ledger.ledger import Ledger
from service.ledger.queries import scored_forecasts
from service.metrics import ServiceMetrics
from service.model.forecaster import Forecaster, load_forecaster
from service.model.sessions import SessionConfig

LEVELS = [0.025, 0.1, 0.5, 0.9, 0.975]


def model(model_pair: tuple[Path, str, str]) -> Forecaster:
    registry, _, version = model_pair
    return load_forecaster(registry / version, version, SessionConfig("cpu", 1))


def state(tmp_path: Path, **settings: object) -> State:
    found = Settings(model_dir=tmp_path, store=str(tmp_path / "f.sqlite"), _env_file=None, **settings)
    ledger = Ledger(found, ServiceMetrics())
    ledger.start()
    return State({"ledger": ledger})


def quantiles(n: int) -> np.ndarray:
    return np.tile(np.array([95.0, 97.0, 100.0, 103.0, 105.0]), (n, 1, 1))


def test_every_window_gets_an_id_and_a_record(tmp_path: Path, model_pair: tuple[Path, str, str]) -> None:
    app, forecaster = state(tmp_path), model(model_pair)
    windows = np.linspace(90, 110, 60 * 3, dtype=np.float32).reshape(3, 60)
    kept = asyncio.run(
        keep(
            app,
            forecaster,
            windows,
            quantiles(3),
            Asked(["a", "", ""], ["2019-01-02", None, None], ["2019-01-03", None, None]),
        )
    )
    assert kept.ids is not None and len(set(kept.ids)) == 3 and all(len(i) == 32 for i in kept.ids)
    assert kept.factors is None and kept.quantiles is not None
    assert app.ledger.recorder.flush(timeout=10)
    rows = app.ledger.db.execute(app.ledger.db.connection(), "SELECT name, as_of, target FROM forecasts ORDER BY name")
    assert rows == [("", None, None), ("", None, None), ("a", "2019-01-02", "2019-01-03")]
    app.ledger.stop()


def test_without_a_ledger_nothing_is_recorded_and_no_id_answered(model_pair: tuple[Path, str, str]) -> None:
    kept = asyncio.run(
        keep(State({"ledger": None}), model(model_pair), np.ones((1, 60), np.float32), quantiles(1), unasked(1))
    )
    assert kept.ids is None and kept.factors is None


def test_adaptive_intervals_use_the_series_state(tmp_path: Path, model_pair: tuple[Path, str, str]) -> None:
    app, forecaster = state(tmp_path, adapt="aci", adapt_step=0.5), model(model_pair)
    prices = np.linspace(100, 110, 80, dtype=np.float32)
    first = asyncio.run(keep(app, forecaster, prices[None, 10:70], quantiles(1), Asked(["s"], [None], [None])))
    assert first.factors == [{"0.95": 1.0, "0.8": 1.0}]  # no state yet: the model's own intervals
    # its next day, far outside both intervals: the series' intervals widen
    asyncio.run(
        keep(
            app,
            forecaster,
            np.r_[prices[11:70], [150.0]].astype(np.float32)[None],
            quantiles(1),
            Asked(["s"], [None], [None]),
        )
    )
    assert app.ledger.recorder.flush(timeout=10)
    (scored,) = scored_forecasts(app.ledger.db)
    assert scored.outcome.tolist() == [150.0]
    later = asyncio.run(keep(app, forecaster, prices[None, 12:72], quantiles(1), Asked(["s"], [None], [None])))
    assert later.factors is not None and later.factors[0]["0.8"] > 1.0 and later.factors[0]["0.95"] > 1.0
    assert later.quantiles[0, 0, 1] < 97.0 and later.quantiles[0, 0, 3] > 103.0
    app.ledger.stop()
