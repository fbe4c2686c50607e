"""Loads daily price CSVs of the usual shapes, cleans them, splits them in time and makes windows."""

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
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # config imports this module at run time
    from training.config import TrainConfig

log = logging.getLogger(__name__)

BUNDLED_DATA = Path(__file__).parent / "data"
DEFAULT_DATA = BUNDLED_DATA / "sp500.csv.gz"
# Every bundled real series: three indices, three large-cap stocks (provenance in data/README.md)
DEFAULT_TRAINING_DATA = tuple(
    BUNDLED_DATA / f"{name}.csv.gz" for name in ("sp500", "nasdaq", "djia", "aapl", "ibm", "goog")
)

DATE_NAMES = ("date", "observationdate", "timestamp", "datetime", "day", "time")
# Yahoo writes "null", FRED writes ".", pandas writes "" or "NaN": all mean "no price that day".
MISSING_TOKENS = {"", ".", "null", "nan", "na", "n/a", "#n/a", "none", "-"}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d", "%d-%b-%Y", "%b %d, %Y", "%d.%m.%Y")
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
# European exports: '1.234,56' or '1234,56' (dots group thousands, the comma is the decimal mark).
DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


class DataError(Exception):
    """A problem with an input file, said in one line that names the file, row and column."""


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


@dataclass(frozen=True)
class Split:
    """Chronological split by target index: train [window, val_start), val, test [test_start, n)."""

    window: int
    val_start: int
    test_start: int
    n: int


def normalize_name(name: str) -> str:
    """'Adj Close', ' adj_close' and 'ADJCLOSE' all become 'adjclose'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def read_text(path: Path) -> str:
    """The file's text, gunzipped when it ends in .gz; a missing or undecodable file is a DataError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if path.suffix == ".gz":
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
    raise DataError(f"{path}: row 1: no 'Adj Close' or 'Close' column; pick one of {shown} with --column{hint}")


def parse_date(text: str) -> date | None:
    """A date in any of DATE_FORMATS (a trailing time of day is ignored), or None."""
    text = text.strip()
    if "T" in text[:11] or " " in text[:11].strip():
        text = re.split(r"[T ]", text, maxsplit=1)[0]
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_price(text: str, decimal_comma: bool = False) -> float | None:
    """A price from '1015.25', '"1,015.25"' or ' 7 ' (or '1.015,25' with decimal_comma); None for a
    missing-value token; ValueError otherwise."""
    text = text.strip()
    if text.lower() in MISSING_TOKENS:
        return None
    if decimal_comma:
        if not DECIMAL_COMMA.match(text):
            raise ValueError(text)
        return float(text.replace(".", "").replace(",", "."))
    if THOUSANDS.match(text):
        text = text.replace(",", "")
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


def chronological_split(
    series: PriceSeries | FeatureSeries, window: int, val_days: int, test_days: int, horizon: int = 1
) -> Split:
    """Test = the newest test_days targets, validation the val_days before; raises if too short."""
    n = len(series)
    min_train = max(32, window)  # fewer training windows than this cannot fit anything
    needed = window + min_train + val_days + test_days + horizon - 1
    if n < needed:
        raise DataError(
            f"{series.source}: column {series.column!r}: {n} prices, need at least {needed} "
            f"(window {window} + {min_train} training targets + validation {val_days} "
            f"+ test {test_days}); use a longer file or smaller --window/--val-days/--test-days"
        )
    test_start = n - test_days - (horizon - 1)
    return Split(window=window, val_start=test_start - val_days, test_start=test_start, n=n)


def make_windows(
    prices: np.ndarray, window: int, start: int, stop: int, horizon: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows prices[t-window:t] with targets prices[t:t+horizon] for t in [start, stop)."""
    start = max(start, window)
    targets = np.arange(start, stop)
    idx = targets[:, None] + np.arange(-window, 0)[None, :]
    x = prices[idx]  # (N, window)
    y = prices[targets[:, None] + np.arange(horizon)[None, :]]  # (N, horizon)
    return x, y, targets


@dataclass(frozen=True)
class FeatureSeries:
    """Aligned daily features (N, F), oldest first; feature 0 is `close`, the price being forecast."""

    dates: np.ndarray  # (N,) datetime64[D]
    values: np.ndarray  # (N, F) float64
    names: list[str]
    target: PriceSeries  # the price column, on the same dates

    def __len__(self) -> int:
        return len(self.dates)

    @property
    def prices(self) -> np.ndarray:
        return self.values[:, 0]

    @property
    def source(self) -> str:
        return self.target.source

    @property
    def column(self) -> str:
        return self.target.column


def parse_extras(specs: list[str]) -> dict[str, Path]:
    """--extra name=path pairs -> {name: path}; names become features '<name>_close'."""
    extras = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not re.fullmatch(r"[a-z][a-z0-9]*", name) or not path:
            raise DataError(f"--extra {spec!r}: expected NAME=PATH with a lower-case name, e.g. nasdaq=nasdaq.csv")
        extras[name] = Path(path)
    return extras


def feature_column(path: Path, name: str, column: str | None, extras: dict[str, Path]) -> PriceSeries:
    """The series behind one feature name (hl_range is (High - Low) / Close of the same file)."""
    if name == "close":
        return load_csv(path, column)
    if name in ("open", "high", "low", "volume"):
        return load_csv(path, name)
    if name == "hl_range":
        high, low, close = (load_csv(path, c) for c in ("high", "low", "close"))
        days = np.intersect1d(np.intersect1d(high.dates, low.dates), close.dates)
        pick = [s.prices[np.searchsorted(s.dates, days)] for s in (high, low, close)]
        return PriceSeries(days, (pick[0] - pick[1]) / pick[2], "hl_range", path.name, close.sha256)
    if name.endswith("_close") and name.removesuffix("_close") in extras:
        return load_csv(extras[name.removesuffix("_close")])
    known = ", ".join(["close", "open", "high", "low", "volume", "hl_range", *(f"{e}_close" for e in extras)])
    raise DataError(f"{path}: unknown feature {name!r}; available: {known} (add series with --extra NAME=PATH)")


def load_features(
    path: str | Path,
    column: str | None = None,
    features: list[str] | None = None,
    extras: dict[str, Path] | None = None,
) -> FeatureSeries:
    """Loads each feature and keeps the dates all of them have; `close` is always first."""
    path = Path(path)
    names = ["close", *[f for f in (features or []) if f != "close"]]
    columns = [feature_column(path, name, column, extras or {}) for name in names]
    days = columns[0].dates
    for series in columns[1:]:
        days = np.intersect1d(days, series.dates)
    if len(days) < len(columns[0].dates):
        log.info("%d dates dropped that not every feature has", len(columns[0].dates) - len(days))
    values = np.stack([s.prices[np.searchsorted(s.dates, days)] for s in columns], axis=1)
    target = columns[0]
    aligned = PriceSeries(days, values[:, 0], target.column, target.source, target.sha256)
    return FeatureSeries(dates=days, values=values, names=names, target=aligned)


def make_feature_windows(
    values: np.ndarray, window: int, start: int, stop: int, horizon: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows values[t-window:t] (N, T, F) with targets values[t:t+horizon, 0] (N, h) for t in [start, stop)."""
    start, stop = max(start, window), min(stop, len(values) - horizon + 1)
    targets = np.arange(start, stop)
    x = values[targets[:, None] + np.arange(-window, 0)[None, :]]  # (N, T, F)
    y = values[targets[:, None] + np.arange(horizon)[None, :], 0]  # (N, h)
    return x, y, targets


def load_training_data(config: TrainConfig) -> list[FeatureSeries]:
    """Every series a config names, each with its features and extras aligned on dates; no file twice."""
    paths = [config.data] if isinstance(config.data, str | Path) else config.data
    loaded = [load_features(path, config.column, config.features, config.extras) for path in paths]
    seen: dict[str, Path] = {}
    for path, series in zip(paths, loaded, strict=True):
        if series.target.sha256 in seen:
            other = seen[series.target.sha256]
            same = "given twice" if other == Path(path) else f"the same data as {other}"
            raise DataError(
                f"{path}: {same} (--data {other} and --data {path}, sha256 {series.target.sha256[:12]}); "
                "give each series once"
            )
        seen[series.target.sha256] = Path(path)
    return loaded
