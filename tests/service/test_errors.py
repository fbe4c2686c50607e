"""The one error renderer: every exception class gets the handler FastAPI would pick, on every entry."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from service.errors import HANDLERS, InvalidInput, NotReady, ServiceError, install_error_handlers, render_error


class NewKindOfError(InvalidInput):
    """An error type added after the renderer was written: it must need no change anywhere else."""

    code = "new_kind"


def render(exc: Exception) -> tuple[int, dict[str, object], dict[str, object]]:
    """(status, JSON body, scope state) as the renderer answers `exc` for a bare POST /predict."""
    scope = {"type": "http", "method": "POST", "path": "/predict", "headers": [], "state": {"request_id": "r1"}}
    response = asyncio.run(render_error(Request(scope), exc))
    return response.status_code, json.loads(response.body), scope["state"]


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (NewKindOfError("window[2] is -1.0"), 422, "new_kind"),
        (NotReady("not ready: no model"), 503, "not_ready"),
        (
            RequestValidationError([{"type": "missing", "loc": ("body", "window"), "msg": "Field required"}]),
            422,
            "invalid_request",
        ),
        (HTTPException(404, "Not Found"), 404, "not_found"),
        (ZeroDivisionError("division by zero"), 500, "internal_error"),
    ],
)
def test_each_exception_gets_its_nearest_handler(exc: Exception, status: int, code: str) -> None:
    got_status, body, state = render(exc)
    assert (got_status, body["code"], state["failure"]) == (status, code, code)
    assert "Traceback" not in json.dumps(body) and "division by zero" not in json.dumps(body)


def test_the_app_registers_the_same_handlers_the_fast_path_uses() -> None:
    app = FastAPI()
    install_error_handlers(app)
    assert {k: app.exception_handlers[k] for k in HANDLERS} == HANDLERS
    assert issubclass(NewKindOfError, ServiceError) and NewKindOfError not in HANDLERS  # found along the MRO
