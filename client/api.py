"""ForecastClient and AsyncForecastClient: the same flows (client/flow.py) run over httpx, blocking or async."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from client import flow
from client.answers import Forecast
from client.errors import Unreachable
from client.flow import JSON, Call, Flow, Reply, RetryPolicy, Wait

T = TypeVar("T")


def advance(steps: Flow[T], reply: Reply | None) -> tuple[bool, Any]:
    """Sends `reply` into a flow: (True, its value) when it has finished, else (False, its next step)."""
    try:
        return False, steps.send(reply)
    except StopIteration as done:
        return True, done.value


def as_reply(response: httpx.Response) -> Reply:
    return Reply(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content)


class Calls(ABC):
    """The public calls, each one flow; subclasses say how a flow runs (blocking or awaited).

    Each call returns a Forecast, a list of them, a dict or a bool; from AsyncForecastClient, an awaitable of it.
    """

    def __init__(self, url: str, max_wait: float) -> None:
        self.url, self.policy = url.rstrip("/"), RetryPolicy(max_wait=max_wait)
        self.limits: dict[str, int] = {}

    @abstractmethod
    def _run(self, steps: Flow[T]) -> Any:
        """Drives a flow to its value: sends its calls, sleeps its waits."""

    def predict(self, window: Sequence[float], dates: Sequence[str] | None = None, series: str | None = None) -> Any:
        """The next-day Forecast from prices, oldest first: the newest the model reads (max_window) are posted
        (with ISO dates: forecast_date; with a series name, recorded under it)."""
        return self._run(flow.predict(window, dates, self.policy, series, self.limits))

    def outcome(
        self, price: float, forecast_id: str | None = None, series: str | None = None, date: str | None = None
    ) -> Any:
        """Posts a realised price: for the forecast with `forecast_id`, or for `series`' forecast of `date`."""
        return self._run(flow.outcome(price, self.policy, forecast_id, series, date))

    def calibration(self, **filters: str | float | None) -> Any:
        """How the served forecasts did (GET /calibration), per series and model version."""
        return self._run(flow.calibration(self.policy, **filters))

    def predict_many(self, windows: Sequence[Sequence[float]]) -> Any:
        """A Forecast per window, in order; sent in requests of at most the server's max_batch windows."""
        return self._run(flow.predict_many(windows, self.policy, self.limits))

    def model(self) -> Any:
        """The live model's card (GET /model)."""
        return self._run(flow.model(self.policy))

    def ready(self) -> Any:
        """Whether a model is loaded and serving (GET /health/ready)."""
        return self._run(flow.ready())

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """Turns httpx's transport errors into Unreachable, naming the service."""
        try:
            yield
        except httpx.HTTPError as exc:
            raise Unreachable(f"cannot reach {self.url}: {type(exc).__name__}: {exc}".rstrip(": ")) from None


class ForecastClient(Calls):
    """Blocking client: `ForecastClient("http://127.0.0.1:8000").predict(window) -> Forecast`."""

    if TYPE_CHECKING:  # what Calls' methods return from this client

        def predict(
            self, window: Sequence[float], dates: Sequence[str] | None = None, series: str | None = None
        ) -> Forecast: ...
        def outcome(
            self, price: float, forecast_id: str | None = None, series: str | None = None, date: str | None = None
        ) -> JSON: ...
        def calibration(self, **filters: str | float | None) -> JSON: ...
        def predict_many(self, windows: Sequence[Sequence[float]]) -> list[Forecast]: ...
        def model(self) -> JSON: ...
        def ready(self) -> bool: ...

    def __init__(self, url: str = "http://127.0.0.1:8000", timeout: float = 30.0, max_wait: float = 30.0) -> None:
        super().__init__(url, max_wait)
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def _run(self, steps: Flow[T]) -> T:
        finished, step = advance(steps, None)
        while not finished:
            finished, step = advance(steps, self._do(step))
        return step

    def _do(self, step: Call | Wait) -> Reply | None:
        if isinstance(step, Wait):
            time.sleep(step.seconds)
            return None
        with self._reachable():
            return as_reply(self._http.request(step.method, step.path, json=step.body))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ForecastClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncForecastClient(Calls):
    """The same calls for asyncio: `await AsyncForecastClient(url).predict(window)`."""

    if TYPE_CHECKING:  # what Calls' methods return from this client: the same values, awaited

        async def predict(
            self, window: Sequence[float], dates: Sequence[str] | None = None, series: str | None = None
        ) -> Forecast: ...
        async def outcome(
            self, price: float, forecast_id: str | None = None, series: str | None = None, date: str | None = None
        ) -> JSON: ...
        async def calibration(self, **filters: str | float | None) -> JSON: ...
        async def predict_many(self, windows: Sequence[Sequence[float]]) -> list[Forecast]: ...
        async def model(self) -> JSON: ...
        async def ready(self) -> bool: ...

    def __init__(self, url: str = "http://127.0.0.1:8000", timeout: float = 30.0, max_wait: float = 30.0) -> None:
        super().__init__(url, max_wait)
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout)

    async def _run(self, steps: Flow[T]) -> T:
        finished, step = advance(steps, None)
        while not finished:
            finished, step = advance(steps, await self._do(step))
        return step

    async def _do(self, step: Call | Wait) -> Reply | None:
        if isinstance(step, Wait):
            await asyncio.sleep(step.seconds)
            return None
        with self._reachable():
            return as_reply(await self._http.request(step.method, step.path, json=step.body))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncForecastClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
