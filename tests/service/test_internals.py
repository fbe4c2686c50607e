"""The FastAPI, uvicorn and Starlette internals the service reaches into exist, in the versions they were tested on,
and the pins agree with FastAPI's own requirement on Starlette (docs/inside.md says how to upgrade them)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from packaging.specifiers import SpecifierSet
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from service.app import ForecastAPI
from service.server.transport import HttpProtocol

ROOT = Path(__file__).resolve().parents[2]
# package -> the release series its internals were tested and A/B'd on (with the commits that say so)
TESTED = {"fastapi": ("0.165",), "uvicorn": ("0.54", "0.55"), "starlette": ("1.10",)}
PINS = ('"fastapi>=0.165,<0.166"', '"uvicorn>=0.54,<0.56"', '"starlette>=1.10,<1.11"')


@pytest.mark.parametrize("package", sorted(TESTED))
def test_the_installed_version_is_one_the_internals_were_tested_on(package: str) -> None:
    version = importlib.metadata.version(package)
    series = ".".join(version.split(".")[:2])
    assert series in TESTED[package], (
        f"{package} {version} is installed, but the service's uses of its internals (docs/inside.md) were tested "
        f"on {package} {' and '.join(TESTED[package])} only: upgrade as docs/inside.md says (make test, "
        "bench/ab.py), then widen the pin in pyproject.toml and TESTED here"
    )


def test_pyproject_pins_what_was_tested() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert all(pin in text for pin in PINS)
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


def test_fastapi_accepts_the_starlette_we_pin() -> None:
    """FastAPI declares the Starlette it needs: the series pinned here must be inside it, or an upgrade of one
    would fight the other (pip would refuse, or install a Starlette the service was not tested on)."""
    needs = next(r for r in importlib.metadata.requires("fastapi") or [] if r.startswith("starlette"))
    allowed = SpecifierSet(needs.removeprefix("starlette").split(";")[0].strip())
    for series in TESTED["starlette"]:
        assert f"{series}.0" in allowed, f"fastapi needs {needs}; the pinned starlette {series} is outside it"


def test_fastapis_router_sets_the_route_in_the_scope_as_the_fast_path_does() -> None:
    """The /predict fast path writes scope["route"] (the metrics label is its template) because FastAPI's router
    does: if FastAPI stopped, the two would label the same request differently."""
    app = FastAPI()

    @app.get("/items/{item}")
    async def item(request: Request) -> dict[str, str]:
        return {"route": request.scope["route"].path}

    with TestClient(app) as client:
        assert client.get("/items/7").json() == {"route": "/items/{item}"}
