"""`python -m client forecast prices.csv`: the next day's forecast for a CSV; `python -m client replay prices.csv`:
every day of it posted in date order, then the service's live calibration of the series."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from client import replay
from client.answers import Forecast
from client.api import ForecastClient
from client.csvfile import CsvError, Prices, read_prices
from client.errors import ForecastError


def add_common(command: argparse.ArgumentParser) -> None:
    command.add_argument("csv", type=Path, help="daily prices: Date plus Close or Adj Close (comma, semicolon or tab)")
    command.add_argument(
        "--url",
        default=os.environ.get("FORECAST_URL", "http://127.0.0.1:8000"),
        help="the service (default: $FORECAST_URL or %(default)s)",
    )
    command.add_argument(
        "--column", default=None, help="price column (default: Adj Close, else Close, else the only one)"
    )
    command.add_argument("--json", action="store_true", help="print JSON instead of a table")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m client", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    add_common(sub.add_parser("forecast", help="forecast the day after a CSV's last price", description=__doc__))
    r = sub.add_parser(
        "replay",
        help="post every day's window in date order, then print the series' live calibration",
        description=replay.__doc__,
    )
    add_common(r)
    r.add_argument("--from", dest="start", default=None, metavar="DATE", help="the first day to post (ISO date)")
    r.add_argument(
        "--series",
        default=None,
        help="name the series and post each realised price to /outcomes (default: the service matches the windows)",
    )
    return p


def table(prices: Prices, path: Path, answer: Forecast) -> str:
    """The forecast as a few aligned lines."""
    rows = [
        ("series", f"{path.name}, column {prices.column!r}, {len(prices.prices)} prices to {prices.dates[-1]}"),
        ("forecast for", str(answer.forecast_date or "the next trading day")),
        ("median", f"{answer.forecast:,.2f}"),
    ]
    for level in (0.8, 0.95):
        band = answer.between(level)
        if band is not None:
            rows.append((f"{level:.0%} interval", f"{band.lower:,.2f} .. {band.upper:,.2f}"))
    rows.append(("model", answer.model_version))
    return "\n".join(f"{name:<14}{value}" for name, value in rows)


def forecast(args: argparse.Namespace) -> int:
    prices = read_prices(args.csv, args.column)
    with ForecastClient(args.url) as client:
        window = int(client.model()["window"])
        if len(prices.prices) < window:
            raise CsvError(f"{args.csv}: {len(prices.prices)} prices; the model needs the last {window}")
        answer = client.predict(prices.prices, prices.dates)  # the newest max_window of them are posted
    if args.json:
        print(json.dumps(asdict(answer), default=str))
    else:
        print(table(prices, args.csv, answer))
    return 0


def run_replay(args: argparse.Namespace) -> int:
    prices = read_prices(args.csv, args.column)
    with ForecastClient(args.url) as client:
        replayed = replay.replay(client, prices, args.start, args.series)
    print(json.dumps(replayed.calibration) if args.json else replay.table(args.csv, replayed))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 with the answer; 2 for a file that cannot be read, 1 for the service; one line each."""
    args = parser().parse_args(argv)
    try:
        return run_replay(args) if args.command == "replay" else forecast(args)
    except (CsvError, ValueError) as exc:  # ValueError: a --from that is not a date
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ForecastError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
