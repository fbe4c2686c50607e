"""Scores, live: POST /outcomes takes realised prices (by forecast id, or by series and date), GET /calibration
shows how the served forecasts did against them, per series and model version."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import time
from typing import Annotated, Any

import numpy as np
import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.api.schemas import ErrorResponse
from service.errors import InvalidInput, NotFound, OutcomeConflict, ServiceError, Unauthorized
from service.ledger import calibration, queries
from service.ledger.ledger import Ledger
from service.ledger.queries import Outcome, OutcomeRefused
from service.ledger.records import checked_name, checked_price
from service.ledger.rolling import rolling_series

router = APIRouter(tags=["Scores"])
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 404, 409, 413, 415, 422)}
MAX_OUTCOMES = 10_000


class OutcomeItem(BaseModel):
    """A realised price: for the forecast with `forecast_id`, or for the `series`' forecast of `date`."""

    model_config = ConfigDict(extra="forbid")
    price: float = Field(strict=True, description="The realised price, positive and finite.")
    forecast_id: str | None = Field(None, max_length=64, description="The id an answer gave.")
    series: str | None = Field(None, description="The series the forecast was asked for (with `date`).")
    date: dt.date | None = Field(None, description="The ISO date of the price: the day the forecast was for.")

    @model_validator(mode="after")
    def one_way(self) -> OutcomeItem:
        if (self.forecast_id is None) == (self.series is None and self.date is None):
            raise ValueError("give either 'forecast_id', or 'series' and 'date', for each outcome")
        if self.forecast_id is None and (self.series is None or self.date is None):
            raise ValueError("'series' and 'date' go together")
        return self


class OutcomesRequest(BaseModel):
    """One outcome, or several in `outcomes` (all scored, or none)."""

    model_config = ConfigDict(extra="forbid")
    outcomes: list[OutcomeItem] = Field(min_length=1, max_length=MAX_OUTCOMES)


class OutcomesAnswer(BaseModel):
    scored: int = Field(description="Forecasts scored by this request.")
    already_scored: int = Field(description="Forecasts that had this very outcome already (counted once).")


def ledger_of(request: Request) -> Ledger:
    ledger: Ledger | None = request.app.state.ledger
    if ledger is None:
        raise NotFound("forecasts are not recorded here (FORECAST_RECORD=false): nothing to score")
    return ledger


def check_token(request: Request, authorization: str | None) -> None:
    """401 unless the bearer token matches FORECAST_OUTCOMES_TOKEN (when one is set; compared in constant time)."""
    token = request.app.state.settings.outcomes_token
    if token is None:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise Unauthorized(
            "missing or wrong token; send 'Authorization: Bearer <FORECAST_OUTCOMES_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


def parse_outcomes(raw: bytes) -> list[Outcome]:
    """The body as outcomes: one object, or {"outcomes": [...]}; a 422 naming the first thing to fix."""
    try:  # the standard library's parser: 1e309 is read (as inf) and then refused as a price, by name
        text = json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError) as exc:
        raise ServiceError(f"the body is not JSON: {exc}", status_code=400, code="malformed_json") from None
    single = isinstance(text, dict) and "outcomes" not in text
    try:
        items = OutcomesRequest.model_validate({"outcomes": [text]} if single else text).outcomes
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"][1 if single else 0 :]) or "the body"
        raise InvalidInput(f"{where}: {error['msg'].removeprefix('Value error, ')}") from None
    return [outcome(item, i, single) for i, item in enumerate(items)]


def outcome(item: OutcomeItem, i: int, single: bool) -> Outcome:
    where = "" if single else f"outcomes[{i}]."
    try:
        price = checked_price(item.price, f"{where}price")
        series = checked_name(item.series, f"{where}series") if item.series is not None else None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return Outcome(price, item.forecast_id, series, item.date.isoformat() if item.date else None)


async def score(ledger: Ledger, outcomes: list[Outcome], wait: float) -> tuple[list[Any], int]:
    """Scores them all at once; a forecast another worker answered may not be recorded yet: wait for it a while."""
    await asyncio.to_thread(ledger.recorder.flush)
    deadline = time.monotonic() + wait
    step = ledger.settings.adapt_step if ledger.adapt else None
    while True:
        try:
            return await asyncio.to_thread(queries.post_outcomes, ledger.db, outcomes, step)
        except OutcomeRefused as refused:
            if refused.conflicts or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.05)


@router.post(
    "/outcomes",
    summary="Realised prices for answered forecasts",
    response_model=OutcomesAnswer,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/OutcomesRequest"},
                    "example": {"outcomes": [{"series": "S&P 500", "date": "2019-01-02", "price": 2510.03}]},
                }
            },
        }
    },
)
async def post_outcomes(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
    ledger = ledger_of(request)
    check_token(request, authorization)
    outcomes = parse_outcomes(await request.body())
    try:
        scored, already = await score(ledger, outcomes, ledger.settings.outcome_wait_ms / 1000)
    except OutcomeRefused as refused:
        raise refusal(ledger, refused) from None
    ledger.count_scored(scored)
    return Response(orjson.dumps({"scored": len(scored), "already_scored": already}), media_type="application/json")


def refusal(ledger: Ledger, refused: OutcomeRefused) -> NotFound | OutcomeConflict:
    """404 for an outcome of no recorded forecast, 409 for one that has another price: nothing was scored."""
    if refused.conflicts:
        ledger.metrics.unmatched.labels("conflicting_outcome").inc(len(refused.conflicts))
        wanted, had = refused.conflicts[0]
        return OutcomeConflict(
            f"the forecast of {wanted.describe()} was scored with the price {had!r} already; the first outcome "
            f"counts, so {wanted.price!r} is refused (nothing in this request was scored)"
        )
    ledger.metrics.unmatched.labels("unknown_forecast").inc(len(refused.missing))
    return NotFound(
        f"no recorded forecast for {refused.missing[0].describe()} ({len(refused.missing)} outcome(s) of this "
        "request have none; nothing was scored): check the id, or the series and the date of the price"
    )


@router.get("/calibration", summary="How the served forecasts did, per series and model version", responses=ERRORS)
async def get_calibration(
    request: Request,
    series: Annotated[str | None, Query(max_length=200)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    days: Annotated[float | None, Query(gt=0, description="Only forecasts answered in the last N days.")] = None,
    forecast_id: Annotated[str | None, Query(max_length=64, description="The series of this forecast.")] = None,
    rolling: Annotated[
        bool, Query(description="Add each interval's coverage over the last 250 scored days, day by day.")
    ] = False,
    most: Annotated[int | None, Query(ge=1, le=1000, description="Only the N series scored most often.")] = None,
) -> Response:
    ledger = ledger_of(request)
    await asyncio.to_thread(ledger.recorder.flush)
    if forecast_id is not None:
        series = await asyncio.to_thread(queries.series_of, ledger.db, forecast_id)
        if series is None:
            raise NotFound(f"no recorded forecast with forecast_id {forecast_id!r}")
    found = await asyncio.to_thread(queries.scored_forecasts, ledger.db, series, model, days)
    if most is not None:
        found = sorted(found, key=lambda s: -len(s.outcome))[:most]
    body = {"series": [described(s, rolling) for s in found]}
    return Response(orjson.dumps(body), media_type="application/json")


def described(scores: queries.Scores, with_rolling: bool = False) -> dict[str, Any]:
    """One series and model: its scores as served, and before adaptive scaling when that was on."""
    found: dict[str, Any] = {"series": scores.series, "model_version": scores.model, "levels": list(scores.levels)}
    found.update(scored(scores, scores.served, with_rolling))
    if scores.adapted:
        found["unadjusted"] = scored(scores, scores.raw, with_rolling)
    return found


def scored(scores: queries.Scores, quantiles: np.ndarray, with_rolling: bool) -> dict[str, Any]:
    """The scores of one set of quantiles (as served, or before adaptive scaling) of a series' forecasts."""
    found = calibration.with_recent(scores.outcome, scores.last, quantiles, scores.levels)
    if with_rolling:
        found["rolling"] = rolling_series(scores.outcome, quantiles, scores.levels, scores.dates)
    return found
