"""Series in time: the bundled files, features joined on date, chronological splits and windows."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from training.core.csvfile import PriceSeries, load_csv
from training.core.errors import DataError

if TYPE_CHECKING:  # config imports this module at run time
    from training.core.config import TrainConfig

log = logging.getLogger(__name__)

BUNDLED_DATA = Path(__file__).parents[1] / "data"
DEFAULT_DATA = BUNDLED_DATA / "sp500.csv.gz"
# Every bundled real series: three indices, three large-cap stocks, five exchange rates and the S&P 500
# through the 1987 crash (provenance in data/README.md)
DEFAULT_TRAINING_DATA = tuple(
    BUNDLED_DATA / f"{name}.csv.gz"
    for name in (
        *("sp500", "nasdaq", "djia", "aapl", "ibm", "goog"),
        *(f"fx-usd-{currency}" for currency in ("dem", "gbp", "cad", "jpy", "chf")),
        "sp500-1980-1991",
    )
)


@dataclass(frozen=True)
class Split:
    """Chronological split by target index: train [window, val_start), val, test [test_start, n)."""

    window: int
    val_start: int
    test_start: int
    n: int


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
