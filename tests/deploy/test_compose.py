"""docker compose: the api keeps its forecasts in a volume of its own (its root filesystem is read-only), the
retraining job reads the same store, and the `postgres` profile adds PostgreSQL with no password in the file."""

from __future__ import annotations

import yaml

from tests.live_server import ROOT


def services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_the_api_and_the_retrain_job_share_a_writable_store() -> None:
    api, retrain = services()["api"], services()["retrain"]
    assert api["read_only"] is True and "store:/store" in api["volumes"] and "store:/store" in retrain["volumes"]
    store = api["environment"]["FORECAST_STORE"]
    assert store == "${FORECAST_STORE:-/store/forecasts.sqlite}"
    assert retrain["command"][retrain["command"].index("--store") + 1] == store
    dockerfile = (ROOT / "Dockerfile").read_text()  # the volume takes the image's /store, owned by the service user
    assert "FORECAST_STORE=/store/forecasts.sqlite" in dockerfile
    assert "chown forecast:forecast /models /store" in dockerfile


def test_the_postgres_profile_takes_its_password_from_the_shell() -> None:
    postgres = services()["postgres"]
    assert postgres["profiles"] == ["postgres"] and "pg_isready" in postgres["healthcheck"]["test"]
    assert "POSTGRES_PASSWORD" in postgres["environment"]  # a name alone: its value comes from the environment
    assert "postgres" not in services()["api"].get("depends_on", {})  # the api serves (and counts drops) without it
