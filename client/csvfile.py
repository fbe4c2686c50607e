"""Reads a daily price CSV of the usual shapes with the standard library only, by the trainer's rules (the table
in tests/data/csv/ holds every reader of the project to the same answers)."""

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
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
INFINITY = re.compile(r"^[+-]?inf(inity)?$", re.I)
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


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


def single_column_hint(header: list[str]) -> str:
    """Why a one-column header was not understood."""
    if len(header) != 1:
        return ""
    seen = [name for mark, name in (("|", "pipe"), (" ", "space"), (":", "colon")) if mark in header[0].strip()]
    looks = f" (it looks {seen[0]}-separated)" if seen else ""
    return f"; the header row is a single column{looks}: save the file with comma, semicolon or tab delimiters"


def columns(header: list[str], column: str | None) -> tuple[int, int]:
    """The date column and the price column: the asked one, else Adj Close, else Close, else the only one."""
    keys = [name_key(h) for h in header]
    date_idx = next((i for i, k in enumerate(keys) if k in DATE_NAMES), 0)
    values = [i for i in range(len(keys)) if i != date_idx]
    shown = ", ".join(repr(h.strip()) for h in header)
    if column is not None:
        found = [i for i in values if keys[i] == name_key(column)]
        if not found:
            raise CsvError(f"row 1: unknown column {column!r}; the file has {shown}{single_column_hint(header)}")
        return date_idx, found[0]
    default = next((keys.index(k) for k in ("adjclose", "close") if k in keys), None)
    if default is None and len(values) == 1:
        default = values[0]  # DATE,VALUE (a FRED export)
    if default is None:
        raise CsvError(
            f"row 1: no 'Adj Close' or 'Close' column; the file has {shown}; pick one with --column"
            + single_column_hint(header)
        )
    return date_idx, default


def parse_date(text: str) -> str | None:
    """An ISO date from any of DATE_FORMATS; a time of day after a space or a T is ignored."""
    text = text.strip()
    for candidate in dict.fromkeys((text, re.split(r"[T ]", text, maxsplit=1)[0])):
        for fmt in DATE_FORMATS:
            try:
                return dt.datetime.strptime(candidate, fmt).date().isoformat()
            except ValueError:
                continue
    return None


def parse_price(text: str, decimal_comma: bool) -> float | None:
    """A number, None for a missing-value token; ValueError otherwise. 'inf' is a number, never a price."""
    text = text.strip()
    if text.lower() in MISSING:
        return None
    if INFINITY.match(text):
        return float(text)
    if decimal_comma:
        if not DECIMAL_COMMA.match(text):
            raise ValueError(text)
        return float(text.replace(".", "").replace(",", "."))
    plain = text.replace(",", "") if THOUSANDS.match(text) else text
    if not NUMBER.match(plain):
        raise ValueError(text)
    return float(plain)


def read_text(path: Path) -> str:
    """The file's text, gunzipped when it is gzip (by its first bytes) or named .gz, as the trainer reads it."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b" or path.suffix == ".gz":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as exc:  # a broken stream raises any of the three
                raise CsvError(f"not a valid gzip file ({exc})") from None
        return raw.decode("utf-8-sig")
    except OSError as exc:
        raise CsvError(f"cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise CsvError(f"not UTF-8 text (byte {exc.start})") from None


def row_price(
    line: int, row: list[str], header: list[str], found: tuple[int, int], comma: bool
) -> tuple[str, float | None]:
    """One row's date and price (price None: missing), in the trainer's order of checks."""
    date_idx, price_idx = found
    if len(row) <= max(found):
        raise CsvError(f"row {line}: {len(row)} fields, the header has {len(header)}")
    day = parse_date(row[date_idx])
    if day is None:
        raise CsvError(f"row {line}: column {header[date_idx].strip()!r}: {row[date_idx]!r} is not a date")
    where = f"row {line}: column {header[price_idx].strip()!r}: {row[price_idx]!r}"
    try:
        price = parse_price(row[price_idx], comma)
    except ValueError:
        raise CsvError(f"{where} is not a number{' with a decimal comma (like 1.234,56)' if comma else ''}") from None
    if price is not None and not 0 < price < float("inf"):
        raise CsvError(f"{where} is not a positive price")
    return day, price


def parse_prices(text: str, column: str | None) -> Prices:
    """The prices of a CSV's text by date (sorted; the last row of a repeated date wins)."""
    delimiter = max((",", ";", "\t"), key=lambda d: (text.split("\n", 1)[0].count(d), d == ","))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise CsvError("row 1: the file is empty or has no header")
    found = columns(header, column)
    rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    comma = delimiter != "," and any("," in row[found[1]] for _, row in rows if len(row) > found[1])
    by_date: dict[str, float] = {}
    for line, row in rows:
        day, price = row_price(line, row, header, found, comma)
        if price is not None:
            by_date[day] = price
    if not by_date:
        raise CsvError(f"column {header[found[1]].strip()!r}: no prices in the file")
    days = sorted(by_date)
    return Prices(days, [by_date[d] for d in days], header[found[1]].strip())


def read_prices(path: Path, column: str | None = None) -> Prices:
    """A CSV file's prices (.csv or .csv.gz); a CsvError names the file, row and column of the first problem."""
    try:
        return parse_prices(read_text(path), column)
    except CsvError as exc:
        raise CsvError(f"{path}: {exc}") from None
