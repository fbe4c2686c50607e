"""The registry: CURRENT polled, a new version loaded and checked beside the live one, a bad one refused."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import httpx
import pytest

from service.model.registry import ModelRegistry
from service.model.runners import GraphRunner
from tests.live_server import WINDOW, point_current, running_service, wait_for
from tests.service.conftest import GPU_LIKE, make_client, windows


def served_version(base: str) -> str:
    return httpx.post(f"{base}/predict", json={"window": WINDOW}).json()["model_version"]


def test_swaps_models_without_restart_and_refuses_a_corrupt_one(registry_copy: tuple[Path, str, str]) -> None:
    registry, first, second = registry_copy
    with running_service(registry, FORECAST_RELOAD_SECONDS="0.2") as (base, _):
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        assert served_version(base) == second
        point_current(registry, first)
        assert wait_for(lambda: served_version(base) == first, timeout=10)
        broken = registry / "zz-broken"
        shutil.copytree(registry / second, broken)
        (broken / "model.onnx").write_bytes((broken / "model.onnx").read_bytes()[:500])
        point_current(registry, "zz-broken")
        assert wait_for(
            lambda: 'forecast_model_reloads_total{result="failure"} 1.0' in httpx.get(f"{base}/metrics").text,
            timeout=10,
        )
        answer = httpx.post(f"{base}/predict", json={"window": WINDOW})
        assert answer.status_code == 200 and answer.json()["model_version"] == first
        assert httpx.get(f"{base}/health/ready").status_code == 200


def test_empty_registry_is_not_ready_until_a_model_appears(tmp_path: Path, model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    with make_client(tmp_path, admin_token="t") as c:
        ready = c.get("/health/ready")
        assert ready.status_code == 503 and "no model yet" in ready.json()["error"]
        assert c.post("/predict", json={"window": [1.0] * 60}).status_code == 503
        assert c.get("/health/live").status_code == 200
        import shutil

        shutil.copytree(registry / version, tmp_path / version)
        (tmp_path / "CURRENT").write_text(version)
        c.post("/admin/reload", headers={"Authorization": "Bearer t"})
        assert c.get("/health/ready").status_code == 200


def test_refused_reload_keeps_the_old_model(registry_copy: tuple[Path, str, str]) -> None:
    registry, first, second = registry_copy
    with make_client(registry, admin_token="t") as c:
        (registry / first / "model.onnx").write_bytes(b"garbage")
        (registry / "CURRENT").write_text(first)
        refused = c.post("/admin/reload", headers={"Authorization": "Bearer t"})
        assert refused.status_code == 409
        assert f"model '{first}' refused: onnxruntime cannot load model.onnx" in refused.json()["error"]
        assert f"still serving {second}" in refused.json()["error"]
        answer = c.post("/predict", json={"window": windows(1)[0]}).json()
        assert answer["model_version"] == second
        assert 'forecast_model_reloads_total{result="failure"} 1.0' in c.get("/metrics").text


def test_reload_builds_and_checks_both_sessions_together(
    fake_gpu: None, registry_copy: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, first, second = registry_copy
    models = ModelRegistry(registry, GPU_LIKE)
    assert asyncio.run(models.reload()).status == "loaded"
    assert models.current.version == second and models.current.devices == ["cuda", "cpu"]
    honest = GraphRunner.run
    monkeypatch.setattr(GraphRunner, "run", lambda self, x: [a + 1.0 for a in honest(self, x)])
    (registry / "CURRENT").write_text(first + "\n")
    outcome = asyncio.run(models.reload())
    assert outcome.status == "refused" and "on cuda, batch 1" in outcome.reason
    assert models.current.version == second  # the old pair keeps serving
    monkeypatch.setattr(GraphRunner, "run", honest)
    assert asyncio.run(models.reload(force=True)).status == "loaded"
    assert models.current.version == first and models.current.devices == ["cuda", "cpu"]
    assert json.loads((registry / first / "model.json").read_text())["version"] == first


def test_a_registry_that_is_a_file_is_said_to_be_one(tmp_path: Path) -> None:
    from service.model.registry import RegistryError, read_current

    (tmp_path / "models").write_text("not a directory")
    with pytest.raises(RegistryError, match=r"is a file, not a directory: FORECAST_MODEL_DIR names the registry"):
        read_current(tmp_path / "models")
    with pytest.raises(RegistryError, match=r"registry directory .*missing does not exist"):
        read_current(tmp_path / "missing")
