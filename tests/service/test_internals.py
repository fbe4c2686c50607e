"""The uvicorn and Starlette internals the service reaches into exist, in the versions they were tested on."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from service.app import ForecastAPI
from service.server.transport import HttpProtocol

ROOT = Path(__file__).resolve().parents[2]
# package -> the release series its internals were tested and A/B'd on (with the commits that say so)
TESTED = {"uvicorn": ("0.54", "0.55"), "starlette": ("1.10",)}


@pytest.mark.parametrize("package", sorted(TESTED))
def test_the_installed_version_is_one_the_internals_were_tested_on(package: str) -> None:
    version = importlib.metadata.version(package)
    series = ".".join(version.split(".")[:2])
    assert series in TESTED[package], (
        f"{package} {version} is installed, but the service's uses of its internals (README 'Inside the service') "
        f"were tested on {package} {' and '.join(TESTED[package])} only: run make test and bench/ab.py on it, then "
        "widen the pin in pyproject.toml and TESTED here"
    )


def test_pyproject_pins_what_was_tested() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '"uvicorn>=0.54,<0.56"' in text and '"starlette>=1.10,<1.11"' in text
    locked = (ROOT / "docker" / "requirements-serve.txt").read_text()
    for package, series in TESTED.items():
        pinned = re.search(rf"^{package}==(\d+\.\d+)\.", locked, re.MULTILINE)
        assert pinned and pinned.group(1) in series, f"docker/requirements-serve.txt pins an untested {package}"


def test_the_hooks_the_service_overrides_still_exist() -> None:
    for name in ("shutdown", "on_headers_complete"):
        assert name in vars(HttpToolsProtocol) and name in vars(HttpProtocol)
    assert "cycle" in HttpToolsProtocol.__init__.__code__.co_names  # the request cycle the fix reads
    assert "build_middleware_stack" in vars(Starlette) and "build_middleware_stack" in vars(ForecastAPI)
    assert "sockets" in Multiprocess.__init__.__code__.co_varnames  # the listeners handed to each worker
