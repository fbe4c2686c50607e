"""Reads a daily price CSV of the usual shapes, by the trainer's rules, with the standard library only."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

DATE_NAMES = ("date", "observationdate", "timestamp", "datetime", "day", "time")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d", "%d-%b-%Y", "%b %d, %Y", "%d.%m.%Y")
MISSING = {"", ".", "null", "nan", "na", "n/a", "#n/a", "none", "-"}
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


class CsvError(Exception):
    """A file that cannot give prices, said in one line with the file, row and column."""


@dataclass(frozen=True)
class Prices:
    """A series, oldest first."""

    dates: list[str]
    prices: list[float]
    column: str


def name_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def columns(path: Path, header: list[str], column: str | None) -> tuple[int, int]:
    """The date column and the price column: the asked one, else Adj Close, else Close, else the only one."""
    keys = [name_key(h) for h in header]
    date_idx = next((i for i, k in enumerate(keys) if k in DATE_NAMES), 0)
    shown = ", ".join(repr(h.strip()) for h in header)
    wanted = [name_key(column)] if column else ["adjclose", "close"]
    for key in wanted:
        if key in keys and keys.index(key) != date_idx:
            return date_idx, keys.index(key)
    if column is None and len(header) == 2:
        return date_idx, 1 - date_idx
    raise CsvError(
        f"{path}: no column {column!r}"
        if column
        else f"{path}: no 'Adj Close' or 'Close' column" + f"; the file has {shown}"
    )


def parse_date(text: str) -> str | None:
    day = re.split(r"[T ]", text.strip(), maxsplit=1)[0]
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(day, fmt).date().isoformat()
        except ValueError:
            continue
    return None


GZIP_MAGIC = b"\x1f\x8b"


def parse_price(text: str, decimal_comma: bool) -> float | None:
    text = text.strip()
    if text.lower() in MISSING:
        return None
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".")
    elif THOUSANDS.match(text):
        text = text.replace(",", "")
    return float(text)


def read_text(path: Path) -> str:
    """The file's text, gunzipped when it is gzip (as the trainer's bundled .csv.gz files are)."""
    try:
        raw = path.read_bytes()
        if raw[:2] == GZIP_MAGIC:
            raw = gzip.decompress(raw)
        return raw.decode("utf-8-sig")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:  # a broken .gz raises all three kinds
        raise CsvError(f"{path}: cannot read the file ({exc})") from None


def read_prices(path: Path, column: str | None = None) -> Prices:
    """The file's prices by date (sorted, the last row of a repeated date wins); .csv or .csv.gz."""
    text = read_text(path)
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=lambda d: (first.count(d), d == ","))
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if len(rows) < 2:
        raise CsvError(f"{path}: no data rows under the header")
    header = rows[0]
    date_idx, price_idx = columns(path, header, column)
    decimal_comma = delimiter != "," and any("," in r[price_idx] for r in rows[1:] if len(r) > price_idx)
    by_date: dict[str, float] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}: row {number}"
        if len(row) <= max(date_idx, price_idx):
            raise CsvError(f"{where}: {len(row)} fields, the header has {len(header)}")
        try:
            price = parse_price(row[price_idx], decimal_comma)
        except ValueError:
            raise CsvError(
                f"{where}: column {header[price_idx].strip()!r}: {row[price_idx]!r} is not a number"
            ) from None
        day = parse_date(row[date_idx])
        if day is None:
            raise CsvError(f"{where}: column {header[date_idx].strip()!r}: {row[date_idx]!r} is not a date")
        if price is not None:
            by_date[day] = price
    days = sorted(by_date)
    return Prices(days, [by_date[d] for d in days], header[price_idx].strip())
