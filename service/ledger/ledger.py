"""Ledger: the store, its recorder and the metrics of one server process, behind the few calls routes make."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import numpy as np

from service.config import Settings
from service.ledger import calibration, queries
from service.ledger.calibration import RECENT, central_intervals
from service.ledger.database import Database
from service.ledger.matching import Scored, Written
from service.ledger.recorder import Recorder
from service.ledger.records import ForecastRecord
from service.metrics import ServiceMetrics

log = logging.getLogger(__name__)
OTHER = "other"  # the metrics' series label beyond the busiest ones
RETRAIN_ALPHA = 0.01  # the retraining job's live rule (training.scoring.gate.LIVE_ALPHA), shown on /metrics


class Ledger:
    """Records answers (never blocking them), takes posted outcomes, and reads what /calibration shows."""

    def __init__(self, settings: Settings, metrics: ServiceMetrics) -> None:
        self.settings, self.metrics = settings, metrics
        self.db = Database(settings.store_location())
        self.adapt = settings.adapt == "aci"
        self.named: frozenset[str] = frozenset()  # the series the metrics name; refreshed by the writer
        step = settings.adapt_step if self.adapt else None
        self.recorder = Recorder(
            self.db, settings.record_queue, self.count_written, self.count_dropped, step, self.keep_house
        )

    def start(self) -> None:
        log.info("recording forecasts in %s", self.db.describe())
        self.recorder.start()

    def stop(self) -> None:
        self.recorder.stop()
        self.db.close_all()

    def record(self, records: list[ForecastRecord]) -> None:
        self.recorder.submit(records)

    def label(self, series: str) -> str:
        return series if series in self.named else OTHER

    def count_dropped(self, reason: str, count: int) -> None:
        self.metrics.record_dropped.labels(reason).inc(count)

    def count_written(self, written: Written) -> None:
        """The metrics of one write: recorded, duplicates, scored (misses, pinball), unmatched by reason."""
        for model, series in written.recorded:
            self.metrics.recorded.labels(model, self.label(series)).inc()
        if written.duplicates:
            self.metrics.unmatched.labels("duplicate_forecast").inc(written.duplicates)
        for reason, count in written.unmatched.items():
            self.metrics.unmatched.labels(reason).inc(count)
        self.count_scored(written.scored)

    def count_scored(self, scored: Iterable[Scored]) -> None:
        for found in scored:
            series = self.label(found.chain)
            self.metrics.scored.labels(found.model, series, found.source).inc()
            served = np.asarray([found.served])
            losses = calibration.pinball(np.array([found.outcome]), np.array([found.last]), served, found.levels)[0]
            for level, loss in zip(found.levels, losses, strict=True):
                self.metrics.pinball.labels(found.model, series, f"{level:g}").inc(float(loss))
            for label, (low, high) in central_intervals(found.levels).items():
                side = (
                    "below"
                    if found.outcome < found.served[low]
                    else "above"
                    if found.outcome > found.served[high]
                    else ""
                )
                if side:
                    self.metrics.misses.labels(found.model, series, label, side).inc()

    def keep_house(self) -> None:
        """In the writer thread, every minute: the busiest series, retention, the live calibration gauges."""
        self.named = frozenset(queries.busiest(self.db, self.settings.metrics_series))
        queries.prune(self.db, self.settings.store_retention_days)
        self.metrics.awaiting.set(queries.awaiting(self.db))
        for found in (f for series in self.named for f in queries.scored_forecasts(self.db, series=series)):
            self.metrics.live_scored.labels(found.model, found.series).set(len(found.outcome))
            recent = calibration.scores(
                found.outcome[-RECENT:], found.last[-RECENT:], found.served[-RECENT:], found.levels
            )
            for label, p in recent.get("kupiec_p", {}).items():
                self.metrics.live_kupiec.labels(found.model, found.series, label).set(p)
            if len(found.outcome) >= RECENT:  # the retraining job's rule, on the model's own intervals
                own = calibration.scores(
                    found.outcome[-RECENT:], found.last[-RECENT:], found.raw[-RECENT:], found.levels
                )
                for label, p in own["kupiec_p"].items():
                    self.metrics.retrain_reason.labels(found.model, found.series, label).set(float(p < RETRAIN_ALPHA))

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
