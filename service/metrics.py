"""Prometheus metrics: requests, failures, the Triton-style latency breakdown, batches, model state, the ledger.

With several worker processes (PROMETHEUS_MULTIPROC_DIR set by the service) every worker writes its own
files and /metrics, whichever worker answers it, sums them: prometheus_client's multiprocess mode.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

disable_created_metrics()  # the *_created series double the output and no dashboard here reads them

# Seconds; from 100 us (a batched window's share) to 10 s (the default request timeout).
LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


class ServiceMetrics:
    """All metrics of one app, in their own registry so that several apps can live in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._shown: dict[Gauge, tuple[str, ...]] = {}
        self._add_request_metrics(self.registry)
        self._add_batching_metrics(self.registry)
        self._add_model_metrics(self.registry)
        self._add_ledger_metrics(self.registry)

    def _add_request_metrics(self, r: CollectorRegistry) -> None:
        """Requests, failures and their whole duration, by route."""
        self.requests = Counter(
            "forecast_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.failures = Counter("forecast_failures", "Failed requests by reason.", ["reason"], registry=r)
        self.request_seconds = Histogram(
            "forecast_request_duration_seconds",
            "Whole request time, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def _add_batching_metrics(self, r: CollectorRegistry) -> None:
        """The Triton-style breakdown: queue wait, inference per device, batch sizes, pending windows."""
        self.queue_seconds = Histogram(
            "forecast_queue_wait_seconds",
            "Time a request waited in the batching queue.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.inference_seconds = Histogram(
            "forecast_inference_duration_seconds",
            "Time of one onnxruntime run (one batch), by the device that ran it (cpu or cuda).",
            ["device"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_windows = Histogram(
            "forecast_batch_size_windows",
            "Windows per onnxruntime run.",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.pending_windows = Gauge(
            "forecast_pending_windows", "Windows waiting for inference.", registry=r, multiprocess_mode="livesum"
        )

    def _add_model_metrics(self, r: CollectorRegistry) -> None:
        """The live model: version, provider, load time, reloads, readiness."""
        self.load_seconds = Gauge(
            "forecast_model_load_seconds",
            "Seconds the live model took to load and validate (the slowest worker).",
            registry=r,
            multiprocess_mode="livemax",
        )
        # Info metrics do not work across processes; a gauge of 1 with the same name and labels is the same
        # exposition. "livemax": a version is 1 while any live worker serves it.
        self.model = Gauge(
            "forecast_model_info", "The live model version.", ["version"], registry=r, multiprocess_mode="livemax"
        )
        self.provider = Gauge(
            "forecast_execution_provider_info",
            "The onnxruntime execution provider in use.",
            ["provider", "requested"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.reloads = Counter("forecast_model_reloads", "Model reloads by result.", ["result"], registry=r)
        self.ready = Gauge(
            "forecast_ready",
            "1 when a model is loaded and serving (in every worker).",
            registry=r,
            multiprocess_mode="livemin",
        )

    def _add_ledger_metrics(self, r: CollectorRegistry) -> None:
        """The ledger: forecasts recorded and dropped, outcomes scored or unmatched, misses and pinball loss. The
        series label is one of the busiest FORECAST_METRICS_SERIES series, or 'other': never an id."""
        by_series = ["model_version", "series"]
        self.recorded = Counter("forecast_recorded", "Answered forecasts recorded in the store.", by_series, registry=r)
        self.record_dropped = Counter(
            "forecast_record_dropped", "Answered forecasts not recorded, by reason.", ["reason"], registry=r
        )
        self.scored = Counter(
            "forecast_outcomes_scored", "Forecasts scored against a realised price.", [*by_series, "source"], registry=r
        )
        self.unmatched = Counter(
            "forecast_outcomes_unmatched", "Windows or outcomes not matched, by reason.", ["reason"], registry=r
        )
        self.misses = Counter(
            "forecast_interval_misses",
            "Scored forecasts whose realised price fell outside a central interval, by interval and side.",
            [*by_series, "interval", "side"],
            registry=r,
        )
        self.pinball = Counter(
            "forecast_pinball_loss_pct",
            "Sum of the pinball losses of scored forecasts, in % of the last price, by quantile level.",
            [*by_series, "level"],
            registry=r,
        )
        self.awaiting = Gauge(
            "forecast_awaiting_outcome",
            "Recorded forecasts without an outcome: their day has not come, or it never matched.",
            registry=r,
            multiprocess_mode="max",
        )
        self.live_kupiec = Gauge(
            "forecast_live_kupiec_p",
            "Kupiec's p of a central interval's coverage over the last 250 scored days of a series.",
            [*by_series, "interval"],
            registry=r,
            multiprocess_mode="min",
        )
        self.retrain_reason = Gauge(
            "forecast_live_retrain_reason",
            "1 when the model's own interval (before adaptive scaling) is rejected by Kupiec (p < 0.01) over a "
            "series' last 250 scored days: a reason the retraining job retrains on; else 0.",
            [*by_series, "interval"],
            registry=r,
            multiprocess_mode="max",
        )
        self.live_scored = Gauge(
            "forecast_live_scored_days",
            "Days scored per series (all time).",
            by_series,
            registry=r,
            multiprocess_mode="max",
        )

    def show(self, gauge: Gauge, *labels: str) -> None:
        """Sets an info-style gauge to 1 for these labels and to 0 for the ones it showed before."""
        previous = self._shown.get(gauge)
        if previous is not None and previous != labels:
            gauge.labels(*previous).set(0)
        gauge.labels(*labels).set(1)
        self._shown[gauge] = labels

    def render(self) -> bytes:
        """The exposition text: this app's registry, or every worker's files in multiprocess mode."""
        if not multiprocess_dir():
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        return generate_latest(merged)


def multiprocess_dir() -> str | None:
    """The directory of multiprocess mode, when the service runs several workers."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")
