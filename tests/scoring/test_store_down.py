"""The store down in the middle of a load test (a SQLite file made unwritable, or PostgreSQL stopped): /predict
answers every request, none with a 5xx, what could not be recorded is counted, and recording resumes by itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx

from tests.conftest import empty_postgres
from tests.live_server import running_service, wait_for, window
from tests.postgres import Postgres
from tests.store_faults import unwritable


class Load:
    """Clients posting one-window requests back to back until stopped; every status code kept."""

    def __init__(self, base: str, clients: int = 4) -> None:
        self.base, self.statuses, self.running = base, [], True
        self.threads = [threading.Thread(target=self.post, args=(seed,)) for seed in range(clients)]

    def post(self, seed: int) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            i = 0
            while self.running:
                self.statuses.append(client.post("/predict", json={"window": window(seed * 100_000 + i)}).status_code)
                i += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        for thread in self.threads:
            thread.join(timeout=60)


def counter(base: str, name: str) -> float:
    lines = httpx.get(f"{base}/metrics").text.splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(name))


def outage(base: str, down: Callable[[], AbstractContextManager[None]]) -> None:
    with Load(base) as load:
        assert wait_for(lambda: counter(base, "forecast_recorded_total") > 0, timeout=20)  # the store is written
        with down():
            time.sleep(3.0)
            assert wait_for(lambda: counter(base, 'forecast_record_dropped_total{reason="store_error"}') > 0, 20)
        during = counter(base, "forecast_recorded_total")
        assert wait_for(lambda: counter(base, "forecast_recorded_total") > during + 50, timeout=30)  # resumed
    assert len(load.statuses) > 200 and set(load.statuses) == {200}


def test_an_unwritable_sqlite_store_drops_counts_and_recovers(
    registry_copy: tuple[Path, str, str], tmp_path: Path
) -> None:
    store = tmp_path / "forecasts.sqlite"
    with running_service(registry_copy[0], FORECAST_STORE=str(store)) as (base, _):
        outage(base, lambda: unwritable(store))


def test_a_stopped_postgresql_drops_counts_and_recovers(
    registry_copy: tuple[Path, str, str], postgres: Postgres
) -> None:
    @contextmanager
    def stopped() -> Iterator[None]:
        postgres.stop()
        try:
            yield
        finally:
            postgres.start()
            postgres.wait_ready()

    with running_service(registry_copy[0], FORECAST_STORE=empty_postgres(postgres)) as (base, _):
        outage(base, stopped)
