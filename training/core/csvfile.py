"""Reads a daily price CSV of the usual shapes (Yahoo, FRED, the tutorial's, European exports) into a clean series."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import logging
import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from training.core.errors import DataError

log = logging.getLogger(__name__)

# The rules below are the project's one reading of a price CSV: the client (client/csvfile.py) and the page
# (service/api/static/csv.js) follow them too, and all three are tested against the table in tests/data/csv/.
DATE_NAMES = ("date", "observationdate", "timestamp", "datetime", "day", "time")
# Yahoo writes "null", FRED writes ".", pandas writes "" or "NaN": all mean "no price that day".
MISSING_TOKENS = {"", ".", "null", "nan", "na", "n/a", "#n/a", "none", "-"}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d", "%d-%b-%Y", "%b %d, %Y", "%d.%m.%Y")
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")  # what JavaScript's Number() reads too
INFINITY = re.compile(r"^[+-]?inf(inity)?$", re.I)  # a number, but never a price
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
# European exports: '1.234,56' or '1234,56' (dots group thousands, the comma is the decimal mark).
DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class PriceSeries:
    """One cleaned daily price series, oldest first."""

    dates: np.ndarray  # (N,) datetime64[D]
    prices: np.ndarray  # (N,) float64, all > 0
    column: str
    source: str
    sha256: str

    def __len__(self) -> int:
        return len(self.prices)


def normalize_name(name: str) -> str:
    """'Adj Close', ' adj_close' and 'ADJCLOSE' all become 'adjclose'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def read_text(path: Path) -> str:
    """The file's text, gunzipped when it is gzip (by its first bytes) or named .gz; a DataError otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if raw[:2] == GZIP_MAGIC or path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # a broken stream raises any of the three
            raise DataError(f"{path}: not a valid gzip file ({exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def pick_columns(path: Path, header: list[str], column: str | None) -> tuple[int, int]:
    """Indices of the date column and of the price column (the asked one, else Adj Close, else Close)."""
    names = [normalize_name(h) for h in header]
    date_idx = next((i for i, n in enumerate(names) if n in DATE_NAMES), 0)
    others = [i for i in range(len(names)) if i != date_idx]
    shown = ", ".join(repr(h.strip()) for h in header)
    hint = unreadable_header_hint(header)
    if column is not None:
        wanted = normalize_name(column)
        for i in others:
            if names[i] == wanted:
                return date_idx, i
        raise DataError(f"{path}: row 1: unknown column {column!r}; the file has {shown}{hint}")
    for wanted in ("adjclose", "close"):
        if wanted in names:
            return date_idx, names.index(wanted)
    if len(others) == 1:  # DATE,VALUE (a FRED export)
        return date_idx, others[0]
    raise DataError(
        f"{path}: row 1: no 'Adj Close' or 'Close' column; the file has {shown}; pick one with --column{hint}"
    )


def parse_date(text: str) -> date | None:
    """A date in any of DATE_FORMATS, or None; a time of day after a space or a T is ignored."""
    text = text.strip()
    for candidate in dict.fromkeys((text, re.split(r"[T ]", text, maxsplit=1)[0])):  # 'Jan 05, 2018' has spaces
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    return None


def parse_price(text: str, decimal_comma: bool = False) -> float | None:
    """A price from '1015.25', '"1,015.25"' or ' 7 ' (or '1.015,25' with decimal_comma); None for a
    missing-value token; ValueError for anything else that is not a number ('inf' is one, not a price)."""
    text = text.strip()
    if text.lower() in MISSING_TOKENS:
        return None
    if INFINITY.match(text):
        return float(text)
    if decimal_comma:
        if not DECIMAL_COMMA.match(text):
            raise ValueError(text)
        return float(text.replace(".", "").replace(",", "."))
    if THOUSANDS.match(text):
        text = text.replace(",", "")
    if not NUMBER.match(text):  # float() would also take '1_000' and 'nan' spelled otherwise
        raise ValueError(text)
    return float(text)


def sniff_delimiter(header_line: str) -> str:
    """Comma, semicolon or tab: whichever splits the header into the most fields (comma on a tie)."""
    return max(DELIMITERS, key=lambda d: (header_line.count(d), d == ","))


def uses_decimal_comma(rows: list[list[str]], price_idx: int, delimiter: str) -> bool:
    """True for a semicolon or tab file whose prices are written with a decimal comma ('1.234,56')."""
    if delimiter == ",":
        return False
    return any("," in row[price_idx] for row in rows if len(row) > price_idx)


def unreadable_header_hint(header: list[str]) -> str:
    """Why a header may not have been understood, for the error message."""
    if len(header) == 1:
        found = [name for ch, name in (("|", "pipe"), (" ", "space"), (":", "colon")) if ch in header[0].strip()]
        guess = f" (it looks {found[0]}-separated)" if found else ""
        return f"; the header row is a single column{guess}: save the file with comma, semicolon or tab delimiters"
    return ""


def load_csv(path: str | Path, column: str | None = None) -> PriceSeries:
    """Reads a daily CSV into a clean, sorted, de-duplicated PriceSeries; bad content raises DataError."""
    path = Path(path)
    text = read_text(path)
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header or all(not h.strip() for h in header):
        raise DataError(f"{path}: row 1: the file is empty or has no header")
    date_idx, price_idx = pick_columns(path, header, column)
    col_name = header[price_idx].strip()
    rows = [(reader.line_num, row) for row in reader]
    decimal_comma = uses_decimal_comma([row for _, row in rows], price_idx, delimiter)
    if decimal_comma:
        log.info("%s: %s-separated with decimal commas ('1.234,56')", path.name, DELIMITER_NAMES[delimiter])
    counts = {"rows": 0, "blank": 0, "missing": 0}
    records: list[tuple[date, float]] = []
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            counts["blank"] += 1
            continue
        counts["rows"] += 1
        if len(row) <= max(date_idx, price_idx):
            raise DataError(f"{path}: row {line}: {len(row)} fields, the header has {len(header)}")
        day = parse_date(row[date_idx])
        if day is None:
            raise DataError(
                f"{path}: row {line}: column {header[date_idx].strip()!r}: "
                f"{row[date_idx]!r} is not a date (YYYY-MM-DD or M/D/YYYY)"
            )
        try:
            price = parse_price(row[price_idx], decimal_comma)
        except ValueError:
            style = " with a decimal comma (like 1.234,56)" if decimal_comma else ""
            raise DataError(
                f"{path}: row {line}: column {col_name!r}: {row[price_idx]!r} is not a number{style}"
            ) from None
        if price is None:
            counts["missing"] += 1
            continue
        if not np.isfinite(price) or price <= 0:
            raise DataError(f"{path}: row {line}: column {col_name!r}: {row[price_idx]!r} is not a positive price")
        records.append((day, price))
    return finish_series(path, records, col_name, counts, text)


def finish_series(
    path: Path, records: list[tuple[date, float]], column: str, counts: dict[str, int], text: str
) -> PriceSeries:
    """Sorts by date, keeps the last row of each duplicated date, logs what was dropped."""
    if not records:
        raise DataError(f"{path}: column {column!r}: no prices in the file")
    unsorted = any(a[0] > b[0] for a, b in itertools.pairwise(records))
    by_day: dict[date, float] = {}
    for day, price in records:  # a later row for the same day replaces an earlier one
        by_day[day] = price
    duplicates = len(records) - len(by_day)
    days = sorted(by_day)
    log.info(
        "%s: %d rows, %d prices kept from column %r; %d blank rows, %d missing values, %d duplicate dates dropped%s",
        path.name,
        counts["rows"],
        len(days),
        column,
        counts["blank"],
        counts["missing"],
        duplicates,
        "; rows were not in date order and were sorted" if unsorted else "",
    )
    return PriceSeries(
        dates=np.array(days, dtype="datetime64[D]"),
        prices=np.array([by_day[d] for d in days], dtype=np.float64),
        column=column,
        source=path.name,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )
