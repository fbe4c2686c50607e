"""The champion a challenger is judged against: which data it was trained on, and when a round has nothing new."""

from __future__ import annotations

from training.core.config import TrainConfig
from training.core.data import BUNDLED_DATA, FeatureSeries
from training.core.universe import load_universe
from training.publish.champion import data_files, nothing_new, other_series, same_series

SP500 = BUNDLED_DATA / "sp500.csv.gz"


def card_of(series: list[FeatureSeries]) -> dict:
    return {"training": {"data": [{"file": s.source, "sha256": s.target.sha256} for s in series]}}


def test_the_same_files_and_paths_are_nothing_new_even_when_a_path_was_drawn_on_another_cpu() -> None:
    series = load_universe(TrainConfig(data=[SP500], simulated=2))
    card = card_of(series)
    assert nothing_new(card, series)
    card["training"]["data"][2]["sha256"] = "0" * 64  # the path's prices, drawn where exp rounds otherwise
    assert nothing_new(card, series)
    card["training"]["data"][0]["sha256"] = "0" * 64  # a file whose bytes changed is new data
    assert not nothing_new(card, series)
    assert not nothing_new(card_of(series[:2]), series)  # one path more is new data too


def test_an_older_card_names_its_one_file() -> None:
    card = {"training": {"data_file": "sp500.csv.gz", "data_sha256": "ab"}}
    assert data_files(card) == [("sp500.csv.gz", "ab")]


def cut(series: FeatureSeries, stop: int, source: str) -> FeatureSeries:
    target = type(series.target)(
        series.dates[:stop], series.prices[:stop], series.target.column, source, series.target.sha256
    )
    return FeatureSeries(series.dates[:stop], series.values[:stop], series.names, target)


def test_a_series_extended_with_new_days_is_the_same_series_under_another_name() -> None:
    (full,) = load_universe(TrainConfig(data=[SP500], simulated=0))
    old, extended = cut(full, 3000, "old.csv"), cut(full, 3500, "new.csv")
    assert same_series(old, extended) and not same_series(extended, old)  # the old one lacks the new dates
    target = type(old.target)(old.dates, old.prices * 1.01, "Close", "moved.csv", "x")
    moved = FeatureSeries(old.dates, old.values * 1.01, old.names, target)  # other prices on the same days
    assert not same_series(moved, extended)
    assert other_series([old], [extended]) == []
    assert other_series([old], [extended, cut(full, 100, "short.csv")]) == ["challenger only: short.csv"]
    assert other_series([old, moved], [extended]) == ["champion only: moved.csv"]
