"""`python -m client replay prices.csv`: each day's window posted in date order, as a user's daily job would post
it, then the service's live calibration of the series printed: the whole scoring loop in a minute."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from client.answers import Forecast
from client.api import ForecastClient
from client.csvfile import CsvError, Prices
from client.flow import JSON


@dataclass(frozen=True)
class Replayed:
    """What a replay posted and what the service answered, day by day."""

    days: list[str]  # the date of each window's last price
    answers: list[Forecast]
    calibration: JSON


def first_day(prices: Prices, window: int, start: str | None) -> int:
    """The index of the first window's last price: the first full window, or the first day on or after --from."""
    first = window - 1
    if start is not None:
        dt.date.fromisoformat(start)  # a ValueError names a bad date
        first = max(first, next((i for i, d in enumerate(prices.dates) if d >= start), len(prices.dates)))
    if first >= len(prices.prices):
        raise CsvError(f"nothing to replay: {len(prices.prices)} prices, the model reads {window} per window")
    return first


def replay(client: ForecastClient, prices: Prices, start: str | None = None, series: str | None = None) -> Replayed:
    """Posts every day's window (all the prices before it, up to the model's max_window) from `start` on.
    Without `series` the service matches each window with the next day's by the prices they share; with it, the
    windows carry the name and each realised price is posted to /outcomes for the forecast before it."""
    card = client.model()
    window = int(card["window"])
    longest = int(card.get("max_window") or window)
    days: list[str] = []
    answers: list[Forecast] = []
    for t in range(first_day(prices, window, start), len(prices.prices)):
        if series is not None and answers and answers[-1].forecast_id:
            # today's close scores yesterday's forecast before today's is asked: adaptive intervals use it at once
            client.outcome(prices.prices[t], forecast_id=answers[-1].forecast_id)
        begin = max(0, t - longest + 1)  # every price before, up to the longest window the model reads
        answer = client.predict(prices.prices[begin : t + 1], prices.dates[begin : t + 1], series)
        days.append(prices.dates[t])
        answers.append(answer)
    last_id = answers[-1].forecast_id if answers else None
    found = client.calibration(series=series) if series else client.calibration(forecast_id=last_id)
    return Replayed(days, answers, found)


def table(path: Path, replayed: Replayed) -> str:
    """The live calibration of the replayed series, a line per model version."""
    lines = [f"replayed     {path.name}: {len(replayed.days)} windows, {replayed.days[0]} .. {replayed.days[-1]}"]
    for row in replayed.calibration.get("series", []):
        coverage, kupiec = row.get("coverage", {}), row.get("kupiec_p", {})
        recent = row.get("last_250", {}).get("coverage", {})
        lines += [
            f"series       {row['series']} (model {row['model_version']})",
            f"scored       {row['scored']} days",
            *(
                f"{float(k):.0%} interval  coverage {v:.3f} (Kupiec p {kupiec[k]:.3f}), "
                f"last 250 days {recent.get(k, 0):.3f}"
                for k, v in sorted(coverage.items())
            ),
            f"pinball      {row['pinball']['mean']:.4f} % of price, mean over levels",
        ]
    return "\n".join(lines)
