"""Typed errors carrying the server's message, its stable code and the HTTP status."""

from __future__ import annotations


class ForecastError(Exception):
    """Any failure of a call: `message` says what happened, `code` and `status` come from the server."""

    def __init__(self, message: str, code: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


class InvalidRequest(ForecastError):
    """A 4xx: the request must change (wrong window length, bad value, too large...)."""


class ServerError(ForecastError):
    """A 5xx other than 503/504."""


class Unavailable(ForecastError):
    """503/504 still answered after retrying for the allowed time (no model yet, overloaded, timed out)."""


class Unreachable(ForecastError):
    """No HTTP answer at all: connection refused, name not found, timed out."""


class BadResponse(ForecastError):
    """An answer that is not the service's JSON (a proxy's HTML page, a truncated body...)."""
