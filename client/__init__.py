"""A typed client for the lstm-forecast service: ForecastClient (sync) and AsyncForecastClient, httpx only."""

from client.answers import Forecast, Interval
from client.api import AsyncForecastClient, ForecastClient
from client.errors import BadResponse, ForecastError, InvalidRequest, ServerError, Unavailable, Unreachable

__all__ = [
    "AsyncForecastClient",
    "BadResponse",
    "Forecast",
    "ForecastClient",
    "ForecastError",
    "Interval",
    "InvalidRequest",
    "ServerError",
    "Unavailable",
    "Unreachable",
]
