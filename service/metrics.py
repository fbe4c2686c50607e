"""Prometheus metrics: requests, failures, the Triton-style latency breakdown, batches, model state."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
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
        r = self.registry
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
        self.pending_windows = Gauge("forecast_pending_windows", "Windows waiting for inference.", registry=r)
        self.load_seconds = Gauge(
            "forecast_model_load_seconds",
            "Seconds the live model took to load and validate.",
            registry=r,
        )
        self.model = Info("forecast_model", "The live model version.", registry=r)
        self.provider = Info("forecast_execution_provider", "The onnxruntime execution provider in use.", registry=r)
        self.reloads = Counter("forecast_model_reloads", "Model reloads by result.", ["result"], registry=r)
        self.ready = Gauge("forecast_ready", "1 when a model is loaded and serving.", registry=r)

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
