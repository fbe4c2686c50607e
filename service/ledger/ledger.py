"""Ledger: the store, its recorder and the metrics of one server process, behind the few calls routes make."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from service.config import Settings
from service.ledger import queries
from service.ledger.database import Database
from service.ledger.matching import Scored
from service.ledger.recorder import Recorder
from service.ledger.records import Answers
from service.ledger.tally import OTHER, Increments, tally_scored
from service.ledger.upkeep import Upkeep, upkeep
from service.metrics import ServiceMetrics

log = logging.getLogger(__name__)
__all__ = ["OTHER", "Ledger"]


class Ledger:
    """Records answers (never blocking them), takes posted outcomes, and reads what /calibration shows."""

    def __init__(self, settings: Settings, metrics: ServiceMetrics) -> None:
        self.settings, self.metrics = settings, metrics
        self.db = Database(settings.store_location())
        self.adapt = settings.adapt == "aci"
        self.named: frozenset[str] = frozenset()  # the series the metrics name; refreshed by the writer
        step = settings.adapt_step if self.adapt else None
        self.recorder = Recorder(
            self.db,
            settings.record_queue,
            self.add,
            self.count_dropped,
            step,
            self.show,
            settings.metrics_series,
            settings.store_retention_days,
        )

    def start(self) -> None:
        log.info("recording forecasts in %s", self.db.describe())
        self.recorder.start()

    def stop(self) -> None:
        self.recorder.stop()
        self.db.close_all()

    def record(self, answered: Answers) -> None:
        """A request's answered forecasts to record, off the request path."""
        self.recorder.submit(answered)

    def label(self, series: str) -> str:
        return series if series in self.named else OTHER

    def count_dropped(self, reason: str, count: int) -> None:
        self.metrics.record_dropped.labels(reason).inc(count)

    def add(self, increments: Increments) -> None:
        """Counter increments from a write (the writer process's, or this process's own outcomes)."""
        counters = {
            "recorded": self.metrics.recorded,
            "scored": self.metrics.scored,
            "pinball": self.metrics.pinball,
            "misses": self.metrics.misses,
            "unmatched": self.metrics.unmatched,
        }
        for (metric, *labels), amount in increments.items():
            counters[metric].labels(*labels).inc(amount)

    def count_scored(self, scored: Iterable[Scored]) -> None:
        """Outcomes this process scored (POST /outcomes)."""
        self.add(tally_scored(scored, self.label))

    def keep_house(self) -> None:
        """One round of upkeep here and now (the writer process does it every minute)."""
        self.show(upkeep(self.db, self.settings.metrics_series, self.settings.store_retention_days))

    def show(self, found: Upkeep) -> None:
        """An upkeep's findings: the series the metrics name, and the live calibration gauges."""
        self.named = frozenset(found.named)
        self.metrics.awaiting.set(found.awaiting)
        for (model, series), days in found.scored.items():
            self.metrics.live_scored.labels(model, series).set(days)
        for (model, series, label), p in found.kupiec.items():
            self.metrics.live_kupiec.labels(model, series, label).set(p)
        for (model, series, label), wanted in found.retrain.items():
            self.metrics.retrain_reason.labels(model, series, label).set(wanted)

    async def thetas(self, keys: list[tuple[str, bytes]], model: str) -> list[dict[str, float]]:
        """The adaptive state of the series each window belongs to, by (name, head key): its name's, else its
        chain's; none yet (or the store down) is an empty state: the interval as the model gives it."""

        def read() -> list[dict[str, float]]:
            found = []
            for name, head in keys:
                chain = name or queries.chain_before(self.db, name, head)
                found.append(queries.thetas(self.db, chain, model) if chain else {})
            return found

        try:
            return await asyncio.to_thread(read)
        except Exception as exc:  # the store is down: serve the model's own intervals, as with no state yet
            self.db.forget()
            log.warning("adaptive state unavailable (%s); serving unadjusted intervals", exc)
            return [{} for _ in keys]
