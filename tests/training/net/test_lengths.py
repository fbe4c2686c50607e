"""Windows of many lengths: every window is the prices right before its target, never across two series."""

from __future__ import annotations

import numpy as np

from training.core.csvfile import PriceSeries
from training.core.data import FeatureSeries, Split
from training.net.lengths import WindowPool, checked_lengths, draw_length


def series(first: float, n: int) -> FeatureSeries:
    dates = np.arange(n).astype("datetime64[D]")
    prices = first + np.arange(n, dtype=np.float64)
    return FeatureSeries(dates, prices[:, None], ["close"], PriceSeries(dates, prices, "close", "x.csv", ""))


def pool(part: str = "train") -> WindowPool:
    # two series: 100 prices (targets 10..79 train, 80..89 val) and 40 prices from 1000 (targets 10..19, 20..29)
    datasets = [(series(0.0, 100), Split(10, 80, 90, 100)), (series(1000.0, 40), Split(10, 20, 30, 40))]
    return WindowPool.of(datasets, part, horizon=1)


def test_a_window_is_the_prices_before_its_target_in_its_own_series() -> None:
    train = pool()
    assert len(train) == 70 + 10 and train.longest == 79
    x, y = train.every(15)
    # targets with 15 prices before them: 15..79 of the first series, none of the second (its last is 19)
    assert len(x) == 65 + 5
    assert np.array_equal(x[:, -1, 0] + 1, y[:, 0])
    assert np.all(np.diff(x[..., 0], axis=1) == 1)  # never a jump from one series into the other


def test_draws_only_targets_that_can_read_the_length() -> None:
    rng = np.random.default_rng(0)
    x, y = pool().draw(rng, 50, 60)
    assert x.shape == (20, 60, 1)  # only targets 60..79 of the first series read 60 prices
    assert set(y[:, 0].tolist()) == set(range(60, 80))


def test_validation_targets_are_the_validation_days() -> None:
    _, y = pool("val").every(10)
    assert sorted(y[:, 0].tolist()) == [*range(80, 90), *range(1020, 1030)]


def test_lengths_drawn_cover_the_range_and_half_are_the_shortest() -> None:
    rng = np.random.default_rng(1)
    drawn = np.array([draw_length(rng, 60, 1000) for _ in range(4000)])
    assert drawn.min() == 60 and drawn.max() <= 1000 and drawn.max() > 900
    assert 0.45 < (drawn == 60).mean() < 0.56
    assert draw_length(rng, 60, 60) == 60


def test_checked_lengths_are_the_shortest_a_year_and_the_longest() -> None:
    assert checked_lengths(60, 1000) == [60, 250, 1000]
    assert checked_lengths(60, 200) == [60, 200]
    assert checked_lengths(20, 20) == [20]
