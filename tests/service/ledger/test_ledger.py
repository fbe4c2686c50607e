"""The ledger of one server process: what it records and scores shows in the metrics, under a bounded set of
series labels (the busiest; the rest 'other'), with the live calibration gauges."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import generate_latest

from service.config import Settings
from service.ledger.ledger import Ledger
from service.ledger.matching import Scored
from service.ledger.tally import OTHER
from service.metrics import ServiceMetrics
from tests.service.ledger.conftest import answers, path


def ledger(tmp_path: Path, **settings: object) -> Ledger:
    found = Settings(model_dir=tmp_path / "models", _env_file=None, **{"store": str(tmp_path / "f.sqlite"), **settings})
    return Ledger(found, ServiceMetrics())


MISSES = "forecast_interval_misses_total"


def metric(found: Ledger, line_start: str) -> float:
    text = generate_latest(found.metrics.registry).decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start))


def test_misses_and_pinball_are_counted_by_interval_side_and_level(tmp_path: Path) -> None:
    found = ledger(tmp_path)
    served = (95.0, 97.0, 100.0, 103.0, 105.0)
    levels = (0.025, 0.1, 0.5, 0.9, 0.975)
    found.count_scored(
        [Scored("s", "v1", levels, served, 100.0, outcome, "window") for outcome in (96.0, 106.0, 100.0)]
    )
    assert (
        metric(found, 'forecast_interval_misses_total{interval="0.8",model_version="v1",series="other",side="below"}')
        == 1
    )
    assert (
        metric(found, 'forecast_interval_misses_total{interval="0.95",model_version="v1",series="other",side="above"}')
        == 1
    )
    assert metric(found, "forecast_outcomes_scored_total") == 3
    # level 0.5: |96 - 100| * 0.5 + |106 - 100| * 0.5 + 0, in % of the last price
    assert metric(found, 'forecast_pinball_loss_pct_total{level="0.5"') == 5.0


def test_only_the_busiest_series_are_named(tmp_path: Path) -> None:
    found = ledger(tmp_path, metrics_series=1)
    big, small = path(200, seed=1), path(200, seed=2)
    found.start()
    found.record(answers(big, range(60, 160)))
    found.record(answers(small, range(60, 80)))
    assert found.recorder.flush(timeout=10)
    found.keep_house()
    (named,) = found.named
    assert found.label(named) == named and found.label("anything else") == OTHER
    assert metric(found, f'forecast_live_scored_days{{model_version="v1",series="{named}"}}') == 99
    assert metric(found, "forecast_live_kupiec_p") > 0 and metric(found, "forecast_awaiting_outcome") == 2
    found.stop()


def test_with_the_store_down_the_adaptive_state_is_empty_not_an_error(tmp_path: Path) -> None:
    import asyncio

    found = ledger(tmp_path, adapt="aci", store="postgresql://nobody@127.0.0.1:1/none")
    assert asyncio.run(found.thetas([("spx", b"x")], "v1")) == [{}]
    found.stop()


def test_a_series_whose_own_intervals_miss_shows_as_a_reason_to_retrain(tmp_path: Path) -> None:
    found = ledger(tmp_path)
    calm, narrow = path(400, seed=3), path(400, seed=4)
    found.start()
    found.record(answers(calm, range(60, 400), name="calm"))
    found.record(answers(narrow, range(60, 400), name="narrow", sigma=0.003))
    found.record(answers(narrow, range(60, 200), name="short", sigma=0.003))
    assert found.recorder.flush(timeout=10)
    found.keep_house()
    reason = "forecast_live_retrain_reason{"
    assert metric(found, reason + 'interval="0.8",model_version="v1",series="narrow"}') == 1
    assert metric(found, reason + 'interval="0.95",model_version="v1",series="narrow"}') == 1
    assert metric(found, reason + 'interval="0.8",model_version="v1",series="calm"}') == 0
    shown = [line for line in generate_latest(found.metrics.registry).decode().splitlines() if line.startswith(reason)]
    assert len(shown) == 4 and not any('series="short"' in line for line in shown)  # 139 days: not judged
    found.stop()
