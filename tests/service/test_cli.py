"""`python -m service`: --help and the usual flags over the environment; one line per bad setting; a
misspelled FORECAST_* variable warned about with the closest name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from service import cli
from tests.live_server import ROOT, free_port, running_service, wait_for


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FORECAST_")} | env
    return subprocess.run(
        [sys.executable, "-m", "service", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_help_lists_the_flags_and_starts_nothing() -> None:
    result = run("--help", FORECAST_PORT="1")  # a port it could not bind: --help must not try
    assert result.returncode == 0
    for flag, variable in (
        ("--host", "$FORECAST_HOST"),
        ("--port", "$FORECAST_PORT"),
        ("--workers", "$FORECAST_WORKERS"),
        ("--model-dir", "$FORECAST_MODEL_DIR"),
    ):
        assert flag in result.stdout and variable in result.stdout


@pytest.mark.parametrize("args", [["--bogus"], ["--port"], ["serve"]])
def test_an_unknown_flag_or_argument_exits_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2 and "usage: python -m service" in result.stderr


def test_flags_override_the_environment(registry_copy: tuple[Path, str, str], tmp_path: Path) -> None:
    registry, _, second = registry_copy
    port = free_port()
    with running_service(tmp_path / "empty", args=("--port", str(port), "--model-dir", str(registry))) as (base, _):
        assert base.endswith(f":{port}")
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        assert httpx.get(f"{base}/model").json()["version"] == second


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"FORECAST_PORT": "abc"},
            "error: FORECAST_PORT='abc': Input should be a valid integer, unable to parse string as an integer; "
            "allowed: an integer (>= 0, <= 65535)",
        ),
        (
            {"FORECAST_WORKERS": "banana"},
            "error: FORECAST_WORKERS='banana': Input should be a valid integer, unable to parse string as an "
            "integer or Input should be 'auto'; allowed: an integer from 1 to 256, or 'auto'",
        ),
        (
            {"FORECAST_PROVIDERS": "tpu"},
            "error: FORECAST_PROVIDERS='tpu': Input should be 'auto', 'cpu' or 'cuda'; "
            "allowed: one of 'auto', 'cpu', 'cuda'",
        ),
        (
            {"FORECAST_MAX_QUEUE": "10"},
            "error: invalid settings: FORECAST_MAX_QUEUE (10) must be at least FORECAST_MAX_BATCH (1024)",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_value_and_what_is_allowed(
    env: dict[str, str], line: str
) -> None:
    result = run(**env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [line]


def test_every_bad_variable_gets_its_line_and_a_bad_flag_is_named_as_a_flag() -> None:
    result = run("--port", "x", FORECAST_MAX_BATCH="0", FORECAST_LOG_LEVEL="loud")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert sorted(line.split("=")[0] for line in lines) == [
        "error: --port",
        "error: FORECAST_LOG_LEVEL",
        "error: FORECAST_MAX_BATCH",
    ]
    assert "errors.pydantic.dev" not in result.stderr and "Traceback" not in result.stderr


def test_a_misspelled_variable_is_warned_about_once_with_the_closest_name(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    with running_service(registry, FORECAST_MODLE_DIR="x", FORECAST_PUBLISH_PORT="9") as (_, proc):
        text = proc.log_text()  # type: ignore[attr-defined]
    warnings = [line for line in text.splitlines() if "not a setting" in line]
    assert (
        len(warnings) == 1 and "FORECAST_MODLE_DIR" in warnings[0] and "did you mean FORECAST_MODEL_DIR?" in warnings[0]
    )


def test_unknown_variables_skips_the_compose_ones_and_settings() -> None:
    found = cli.unknown_variables({"FORECAST_PORT": "1", "FORECAST_LB_PORT": "2", "FORECAST_WRKERS": "2", "OTHER": "x"})
    assert found == ["FORECAST_WRKERS is not a setting of the service and is ignored; did you mean FORECAST_WORKERS?"]


def test_a_taken_port_is_said_once(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    with running_service(registry) as (base, _):
        port = base.rsplit(":", 1)[1]
        result = run("--model-dir", str(registry), FORECAST_PORT=port)
    assert result.returncode == 2
    assert [line for line in (result.stdout + result.stderr).splitlines() if "already in use" in line] == [
        f"error: port {port} on 127.0.0.1 is already in use (another server holds it); stop it or set "
        "FORECAST_PORT to a free port"
    ]


def test_a_misspelled_variable_in_dot_env_is_warned_about_too(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("FORECAST_MODLEDIR=models\nFORECAST_PORT=8001\n# a comment\n")
    found = cli.unknown_variables({"FORECAST_PORT": "1"}, env_file)
    assert found == [
        f"FORECAST_MODLEDIR (in {env_file}) is not a setting of the service and is ignored; "
        "did you mean FORECAST_MODEL_DIR?"
    ]


def test_the_clients_own_variable_is_not_taken_for_a_typo() -> None:
    assert cli.unknown_variables({"FORECAST_URL": "http://127.0.0.1:8000"}, Path("/nonexistent/.env")) == []


def test_a_port_taken_by_the_port_flag_is_named_as_the_flag(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    with running_service(registry) as (base, _):
        port = base.rsplit(":", 1)[1]
        result = run("--model-dir", str(registry), "--port", port)
    assert result.returncode == 2
    said = [line for line in (result.stdout + result.stderr).splitlines() if "already in use" in line]
    assert said == [
        f"error: port {port} on 127.0.0.1 is already in use (another server holds it); "
        "stop it or set --port to a free port"
    ]
