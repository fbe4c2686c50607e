"""Safe defaults: admin off without a token, the token never logged, ONNX + JSON only, CORS off, no traces."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from tests.live_server import ROOT, running_service

TOKEN = "s3cr3t-t0ken-4242"


def test_admin_token_is_never_logged(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    with running_service(registry, FORECAST_ADMIN_TOKEN=TOKEN, FORECAST_LOG_LEVEL="debug") as (base, proc):
        assert httpx.post(f"{base}/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        wrong = httpx.post(f"{base}/admin/reload", headers={"Authorization": f"Bearer {TOKEN}-wrong"})
        assert wrong.status_code == 401 and TOKEN not in wrong.text
        log = proc.log_text()
    assert "/admin/reload" in log
    assert TOKEN not in log


def test_service_code_loads_only_onnx_and_json() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "service").rglob("*.py"))
    for forbidden in (
        r"^\s*import torch",
        r"^\s*from torch",
        r"\bpickle\b",
        r"torch\.load",
        r"allow_pickle",
        r"^\s*import pandas",
        r"\bjoblib\b",
        r"\beval\(",
    ):
        assert not re.search(forbidden, source, re.M), forbidden


def make_client(registry: Path, **overrides: object) -> TestClient:
    return TestClient(create_app(Settings(model_dir=registry, reload_seconds=0, _env_file=None, **overrides)))


def test_cors_is_off_by_default_and_configurable(model_pair: tuple[Path, str, str]) -> None:
    registry = model_pair[0]
    preflight = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    with make_client(registry) as client:
        response = client.options("/predict", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-origin" not in client.get("/health/live", headers={"Origin": "https://x"}).headers
    with make_client(registry, cors_origins=["https://example.org"]) as client:
        response = client.options("/predict", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://example.org"


def test_unexpected_errors_answer_json_without_a_trace(model_pair: tuple[Path, str, str]) -> None:
    app = create_app(Settings(model_dir=model_pair[0], reload_seconds=0, _env_file=None))

    @app.get("/boom")
    async def boom() -> None:  # a route that fails the way a bug would
        raise RuntimeError("internal detail that must not leak")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-77"})
        metrics = client.get("/metrics").text
    assert response.status_code == 500
    # The service's outer layers see the 500 like any other answer (they sit outside Starlette's error layer)
    assert response.headers.get("x-request-id") == "req-77"
    assert 'forecast_failures_total{reason="internal_error"} 1.0' in metrics
    assert response.json() == {"error": "internal error (request id req-77)", "code": "internal_error"}
    assert "internal detail" not in response.text and "Traceback" not in response.text


def test_container_defaults() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile and "EXPOSE 8000\n" in dockerfile
    assert dockerfile.count("EXPOSE") == 1
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "models:/models:ro" in compose and "read_only: true" in compose
    assert not re.search(r"(?i)(token|password|secret)\s*[:=]\s*\S", dockerfile + compose)
