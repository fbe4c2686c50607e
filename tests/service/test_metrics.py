"""Prometheus metrics: requests, batches and the model, as /metrics shows them."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.service.conftest import windows


def test_metrics_report_requests_batches_and_model(client: TestClient, model_pair: tuple[Path, str, str]) -> None:
    client.post("/predict", json={"windows": windows(3)})
    client.post("/predict", json={"window": [1.0]})
    text = client.get("/metrics").text
    assert 'forecast_http_requests_total{method="POST",route="/predict",status="200"} 1.0' in text
    assert 'forecast_failures_total{reason="invalid_input"} 1.0' in text
    assert "forecast_batch_size_windows_sum 3.0" in text
    assert f'forecast_model_info{{version="{model_pair[2]}"}} 1.0' in text
    assert 'forecast_execution_provider_info{provider="CPUExecutionProvider"' in text
    for name in (
        "forecast_request_duration_seconds_bucket",
        "forecast_queue_wait_seconds_bucket",
        "forecast_inference_duration_seconds_bucket",
        "forecast_pending_windows",
        "forecast_model_load_seconds",
        "forecast_model_reloads_total",
    ):
        assert name in text
