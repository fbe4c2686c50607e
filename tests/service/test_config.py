"""Settings: environment variables, validation, and the README's table listing every one of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORECAST_PORT", "9001")
    monkeypatch.setenv("FORECAST_PROVIDERS", "cpu")
    monkeypatch.setenv("FORECAST_ADMIN_TOKEN", "zq9-secret-77")
    monkeypatch.setenv("FORECAST_PARALLEL_MIN_BATCH", "200")
    settings = Settings(_env_file=None)
    assert settings.port == 9001 and settings.providers == "cpu" and settings.parallel_min_batch == 200
    assert settings.admin_token is not None and "zq9-secret-77" not in repr(settings)  # secrets stay out of logs


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FORECAST_PROVIDERS", "tpu"),
        ("FORECAST_MAX_BATCH", "0"),
        ("FORECAST_PORT", "70000"),
        ("FORECAST_MAX_QUEUE", "10"),
        ("FORECAST_WORKERS", "0"),
        ("FORECAST_WORKERS", "many"),
        ("FORECAST_WORKERS", "1000"),
        ("FORECAST_GPU_MIN_BATCH", "-1"),
        ("FORECAST_CUDA_GRAPHS", "sometimes"),
        ("FORECAST_SWITCH_INTERVAL_MS", "0"),
        ("FORECAST_SWITCH_INTERVAL_MS", "500"),
        ("FORECAST_PARALLEL_MIN_BATCH", "0"),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_readme_documents_every_setting() -> None:
    text = README.read_text()
    for name in Settings.model_fields:
        assert f"| `FORECAST_{name.upper()}` |" in text, f"FORECAST_{name.upper()} missing from README"


def test_readme_curl_example_is_real_data() -> None:
    import re

    from training.core.csvfile import load_csv
    from training.core.data import DEFAULT_DATA

    window = [float(v) for v in re.search(r'"window":\[([0-9.,]+)\]', README.read_text()).group(1).split(",")]
    prices = load_csv(DEFAULT_DATA).prices
    assert len(window) == 60
    assert window == [round(float(p), 2) for p in prices[-61:-1]]  # 2018-10-03 .. 2018-12-28
