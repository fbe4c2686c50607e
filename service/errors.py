"""ServiceError carries its HTTP status; one set of handlers renders every error as JSON."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ModelError(Exception):
    """A version directory that must not be served, with the reason (never shown to a client as a 500)."""


def first_line(exc: BaseException) -> str:
    """An exception's message, one line, bounded."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


class ServiceError(Exception):
    """An error a client can act on: status code, a machine-readable code and a readable message."""

    status_code = 500
    code = "internal_error"
    # How this family answers another family's error code: (status, code). Protocols answer bad input with 400.
    translations: ClassVar[dict[str, tuple[int, str]]] = {}

    def __init__(
        self, message: str, headers: dict[str, str] | None = None, *, status_code: int = 0, code: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers
        self.status_code = status_code or self.status_code
        self.code = code or self.code

    def body(self) -> dict[str, object]:
        """The answer's JSON: /predict's shape; the protocol families below override it."""
        return error_body(self.code, self.message)

    def recast(self, family: type[ServiceError]) -> ServiceError:
        """The same error (status, code, headers) in another route family's shape."""
        if isinstance(self, family):
            return self
        other = ServiceError.__new__(family)  # each family's own __init__ takes different arguments
        status, code = family.translations.get(self.code, (self.status_code, self.code))
        ServiceError.__init__(other, self.message, self.headers, status_code=status, code=code)
        return other


class ProtocolError(ServiceError):
    """An Open Inference Protocol error: answered as {"error": "..."} with its status code."""

    status_code, code = 400, "protocol_error"
    translations: ClassVar[dict[str, tuple[int, str]]] = {"invalid_input": (400, "protocol_error")}

    def __init__(self, message: str, status_code: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, headers, status_code=status_code)

    def body(self) -> dict[str, object]:
        return {"error": self.message}


class ForecastFailure(ServiceError):
    """A KServe time-series API error: {"error": {"type", "message", "code", "param"}}; the type is the code."""

    status_code = 400
    translations: ClassVar[dict[str, tuple[int, str]]] = {
        "invalid_input": (400, "invalid_request"),
        "not_ready": (503, "model_not_ready"),
    }

    def __init__(self, kind: str, message: str, status_code: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, headers, status_code=status_code, code=kind)

    def body(self) -> dict[str, object]:
        return {"error": {"type": self.code, "message": self.message, "code": str(self.status_code), "param": None}}


class InvalidInput(ServiceError):
    """The request parsed but its values cannot be forecast (wrong length, non-positive price...)."""

    status_code, code = 422, "invalid_input"


class NotReady(ServiceError):
    """No model is loaded yet."""

    status_code, code = 503, "not_ready"


class Overloaded(ServiceError):
    """The batching queue is full."""

    status_code, code = 503, "overloaded"


class TimedOut(ServiceError):
    """The request waited longer than FORECAST_REQUEST_TIMEOUT_MS."""

    status_code, code = 504, "timeout"


class Unauthorized(ServiceError):
    """Missing or wrong admin token."""

    status_code, code = 401, "unauthorized"


class NotFound(ServiceError):
    """No such resource (also: admin endpoints when no token is configured)."""

    status_code, code = 404, "not_found"


class ModelRefused(ServiceError):
    """A registry version failed validation; the previous model keeps serving."""

    status_code, code = 409, "model_refused"


class OutcomeConflict(ServiceError):
    """An outcome for a forecast that already has another one: the first outcome counts."""

    status_code, code = 409, "outcome_conflict"


class InferenceFailed(ServiceError):
    """onnxruntime raised during a run."""

    status_code, code = 500, "inference_failed"


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    """The one error shape: {"error": message, "code": code, ...}."""
    return {"error": message, "code": code, **extra}


def describe_validation_error(exc: RequestValidationError) -> str:
    """Pydantic's error list as one readable sentence, e.g. "body.window[3]: Input should be a number"."""
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        where = ".".join(p if not p.isdigit() else f"[{p}]" for p in loc).replace(".[", "[")
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else f"request body: {message}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


async def on_service_error(request: Request, exc: Exception) -> JSONResponse:
    """Every family's errors: its own shape, its status, and the failure metric labelled with its code."""
    assert isinstance(exc, ServiceError)
    request.state.failure = exc.code
    return JSONResponse(exc.body(), exc.status_code, headers=exc.headers)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if errors and errors[0].get("type") == "json_invalid":
        request.state.failure = "malformed_json"
        reason = errors[0].get("ctx", {}).get("error", "invalid JSON")
        message = f"request body is not valid JSON: {reason}"
        return JSONResponse(error_body("malformed_json", message), 400)
    request.state.failure = "invalid_request"
    return JSONResponse(error_body("invalid_request", describe_validation_error(exc)), 422)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    request.state.failure = code.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code == 400:  # FastAPI's words for a body json.loads could not take (bad UTF-8, too deep)
        message = "request body could not be parsed as JSON (invalid UTF-8, or nested too deeply)"
    return JSONResponse(
        error_body(code.get(exc.status_code, "http_error"), message),
        exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "-")
    log.error("unhandled error in request %s", request_id, exc_info=exc)
    request.state.failure = "internal_error"
    return JSONResponse(error_body("internal_error", f"internal error (request id {request_id})"), 500)


ErrorHandler = Callable[[Request, Exception], Awaitable[JSONResponse]]
HANDLERS: dict[type[Exception], ErrorHandler] = {
    ServiceError: on_service_error,
    RequestValidationError: on_validation_error,
    StarletteHTTPException: on_http_error,
    Exception: on_unexpected_error,
}


async def render_error(request: Request, exc: Exception) -> JSONResponse:
    """The one renderer, for routes and the /predict fast path alike: the handler of the exception's nearest
    class in HANDLERS, picked along its MRO as Starlette picks it."""
    handler = next(HANDLERS[kind] for kind in type(exc).__mro__ if kind in HANDLERS)
    return await handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Registers HANDLERS with the app; no error ever answers with a traceback."""
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)
