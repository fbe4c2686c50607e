"""The scoring loop end to end, against the real service as a process: a bundled series replayed day by day
(windows alone, or named with their outcomes posted) scores exactly what a test computes offline from the same
answers and prices; a kill -9 mid-replay loses no answered outcome and counts none twice; two workers, and two
processes on one PostgreSQL, score as one process does."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from client import ForecastClient
from client.csvfile import Prices, read_prices
from client.replay import replay
from service.ledger.calibration import scores
from tests.conftest import ROOT, empty_postgres
from tests.live_server import free_port, running_service, wait_for
from tests.postgres import Postgres

DAYS = 1100  # at least 1,000 scored days
KEYS = ("coverage", "hit_rate", "pinball", "kupiec_p", "christoffersen_p")


def series() -> Prices:
    """The first 1,160 days of the bundled Apple file: 1,101 windows of 60 prices, 1,100 of them scored."""
    found = read_prices(ROOT / "training" / "data" / "aapl.csv.gz")
    return Prices(found.dates[: DAYS + 60], found.prices[: DAYS + 60], found.column)


def offline(prices: Prices, answers: list) -> dict:
    """The answers' scores against the next day's prices (as the model reads prices: float32), computed here."""
    f32 = np.asarray(prices.prices, dtype=np.float32).astype(np.float64)
    levels = tuple(sorted(answers[0].quantiles))
    quantiles = np.array([[a.quantiles[q] for q in levels] for a in answers[:-1]])
    n = len(answers)
    return scores(f32[-n + 1 :], f32[-n:-1], quantiles, levels)


def equal(live: dict, expected: dict) -> None:
    assert live["scored"] == expected["scored"]
    for key in KEYS:
        assert live[key].keys() == expected[key].keys()
        for name, value in expected[key].items():
            assert abs(live[key][name] - value) <= 1e-9, (key, name, live[key][name], value)


@pytest.mark.parametrize("named", [False, True], ids=["windows alone", "named, outcomes posted"])
def test_a_replayed_series_scores_what_a_test_computes_offline(
    registry_copy: tuple[Path, str, str], named: bool
) -> None:
    prices = series()
    with running_service(registry_copy[0]) as (base, _), ForecastClient(base) as client:
        replayed = replay(client, prices, series="aapl" if named else None)
    (row,) = replayed.calibration["series"]
    assert (row["series"] == "aapl") == named and row["scored"] == DAYS
    equal(row, offline(prices, replayed.answers))
    equal(row["last_250"], offline(prices, replayed.answers[-251:]))


def days_posted(base: str, prices: Prices, days: range, answered: dict[str, float]) -> None:
    """Posts each day's window (named) and the day's price as the outcome of the forecast before it; notes every
    outcome answered 2xx. Stops quietly when the service dies under it."""
    previous = None
    with httpx.Client(base_url=base, timeout=10) as http:
        for t in days:
            window = {"window": prices.prices[t - 59 : t + 1], "dates": prices.dates[t - 59 : t + 1], "series": "k"}
            try:
                answer = http.post("/predict", json=window).json()
                if previous is not None:
                    posted = http.post("/outcomes", json={"forecast_id": previous, "price": prices.prices[t]})
                    if posted.is_success:
                        answered[previous] = float(np.float32(prices.prices[t]))
                previous = answer["forecast_id"]
            except httpx.TransportError:
                return


def start(registry: Path, port: int, store: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FORECAST_MODEL_DIR": str(registry), "FORECAST_PORT": str(port), "FORECAST_STORE": str(store)}
    server = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/health/ready").status_code == 200)
    return server


def test_a_kill_mid_replay_loses_no_answered_outcome_and_counts_none_twice(
    registry_copy: tuple[Path, str, str], tmp_path: Path
) -> None:
    prices, store, port = series(), tmp_path / "forecasts.sqlite", free_port()
    base, answered = f"http://127.0.0.1:{port}", {}
    server = start(registry_copy[0], port, store)
    replaying = threading.Thread(target=days_posted, args=(base, prices, range(59, 700), answered))
    replaying.start()
    time.sleep(2.0)
    server.send_signal(signal.SIGKILL)  # mid-replay: whatever was queued and not written is lost
    replaying.join()
    server.wait()
    killed_at = len(answered)
    server = start(registry_copy[0], port, store)
    try:
        days_posted(base, prices, range(59 + max(killed_at - 5, 0), 700), answered)  # the job starts again a bit back
        httpx.get(f"{base}/calibration")  # flushes the writer
    finally:
        server.terminate()
        server.wait(timeout=30)
    with sqlite3.connect(store) as db:
        outcomes = dict(db.execute("SELECT id, outcome FROM forecasts WHERE outcome IS NOT NULL").fetchall())
        per_day = db.execute("SELECT target, COUNT(*) FROM forecasts GROUP BY target HAVING COUNT(*) > 1").fetchall()
    assert 0 < killed_at < 640 and len(answered) > killed_at
    assert all(outcomes.get(i) == price for i, price in answered.items())  # every 2xx outcome, counted
    assert per_day == []  # one forecast per day of the series: nothing counted twice


def calibrated(base: str, scored: int) -> dict:
    """/calibration once every worker has written its share (each worker flushes only its own queue)."""
    found: dict = {}

    def complete() -> bool:
        found.update(httpx.get(f"{base}/calibration").json())
        return sum(row["scored"] for row in found["series"]) == scored

    assert wait_for(complete, timeout=60), found
    return found


def replay_through(bases: list[str], prices: Prices) -> None:
    """The days in order, each window to the next server in turn (as a load balancer would spread them)."""
    clients = [httpx.Client(base_url=b, timeout=30) for b in bases]
    for i, t in enumerate(range(59, len(prices.prices))):
        clients[i % len(clients)].post("/predict", json={"window": prices.prices[t - 59 : t + 1]})
    for client in clients:
        client.close()


def test_two_workers_and_two_processes_on_one_postgresql_score_as_one_process(
    registry_copy: tuple[Path, str, str], postgres: Postgres
) -> None:
    prices, registry = series(), registry_copy[0]
    with running_service(registry, FORECAST_STORE=empty_postgres(postgres)) as (base, _):
        replay_through([base], prices)
        one = calibrated(base, DAYS)
    with running_service(registry, FORECAST_STORE=empty_postgres(postgres), FORECAST_WORKERS="2") as (base, _):
        replay_through([base], prices)
        workers = calibrated(base, DAYS)
    url = empty_postgres(postgres)
    with (
        running_service(registry, FORECAST_STORE=url) as (a, _),
        running_service(registry, FORECAST_STORE=url) as (b, _),
    ):
        replay_through([a, b], prices)
        processes = calibrated(a, DAYS)
    assert one == workers == processes and len(one["series"]) == 1
