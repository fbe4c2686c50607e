"""Settings: environment variables, validation, and docs/settings.md listing every one of them as the code says."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


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


def test_the_settings_page_documents_every_setting_as_the_code_describes_it() -> None:
    rows = {
        line.split("|")[1].strip(): line
        for line in (ROOT / "docs" / "settings.md").read_text().splitlines()
        if line.startswith("| `FORECAST_")
    }
    assert set(rows) == {f"`FORECAST_{name.upper()}`" for name in Settings.model_fields}
    for name, field in Settings.model_fields.items():
        assert f"| {field.description} |" in rows[f"`FORECAST_{name.upper()}`"], f"FORECAST_{name.upper()}"


def test_readme_curl_example_is_real_data() -> None:
    import re

    from training.core.csvfile import load_csv
    from training.core.data import DEFAULT_DATA

    window = [float(v) for v in re.search(r'"window":\[([0-9.,]+)\]', README.read_text()).group(1).split(",")]
    prices = load_csv(DEFAULT_DATA).prices
    assert len(window) == 60
    assert window == [round(float(p), 2) for p in prices[-61:-1]]  # 2018-10-03 .. 2018-12-28
