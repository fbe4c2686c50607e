"""What the service answers, as typed values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from client.errors import BadResponse


@dataclass(frozen=True)
class Interval:
    """A central prediction interval, e.g. level 0.8 between the 0.1 and 0.9 quantiles."""

    level: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Forecast:
    """One window's next-day forecast: the median, its quantiles by level and the 80% interval."""

    forecast: float
    quantiles: dict[float, float]
    interval: Interval | None
    model_version: str
    forecast_date: dt.date | None = None
    forecast_id: str | None = None  # to post its outcome with (when the service records forecasts)
    adaptive: dict[str, float] | None = None  # the factor each central interval was scaled by (FORECAST_ADAPT=aci)

    def between(self, level: float) -> Interval | None:
        """The central interval of `level` (0.8, 0.95) when the model has both of its quantiles."""
        low, high = round((1 - level) / 2, 6), round(1 - (1 - level) / 2, 6)
        if low in self.quantiles and high in self.quantiles:
            return Interval(level, self.quantiles[low], self.quantiles[high])
        return None


def interval_from(data: object) -> Interval | None:
    if not isinstance(data, dict):
        return None
    return Interval(float(data["level"]), float(data["lower"]), float(data["upper"]))


def one_forecast(body: dict, index: int | None = None) -> Forecast:
    """A Forecast from a single answer, or from position `index` of a batch answer."""
    try:
        if index is None:
            point, levels, band = body["forecast"], body.get("quantiles") or {}, body.get("interval")
        else:
            point = body["forecasts"][index]
            levels = (body.get("quantiles") or [{}] * (index + 1))[index]
            band = (body.get("intervals") or [None] * (index + 1))[index]
        day = body.get("forecast_date")
        ids, factors = body.get("forecast_ids"), body.get("adaptive")
        forecast_id = body.get("forecast_id") if index is None else (ids[index] if ids else None)
        adapted = factors if index is None else (factors[index] if factors else None)
        return Forecast(
            forecast=float(point),
            quantiles={float(k): float(v) for k, v in levels.items()},
            interval=interval_from(band),
            model_version=str(body["model_version"]),
            forecast_date=dt.date.fromisoformat(day) if day else None,
            forecast_id=str(forecast_id) if forecast_id else None,
            adaptive={str(k): float(v) for k, v in adapted.items()} if adapted else None,
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise BadResponse(f"the answer is not a forecast ({type(exc).__name__}: {exc})") from None
