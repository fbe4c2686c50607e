"""The walk-forward backtest: folds train only before each origin, the future never reaches the past."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.training.studies.conftest import run, tiny
from training.core.data import FeatureSeries, load_training_data
from training.scoring import baselines, holdout
from training.studies import evaluate


def test_folds_cover_the_period_and_train_only_before_each_origin(short_series: Path) -> None:
    series = load_training_data(tiny(short_series))[0]
    result = run(series, tiny(short_series))
    assert result.targets.tolist() == list(range(220, 300))
    assert [(o, s) for o, s, _ in result.fold_models] == [(220, 240), (240, 260), (260, 280), (280, 300)]
    split = evaluate.fold_split(220, 20, 40, 1, 300)
    assert split.test_start == 219 and split.val_start == 179  # last fitted target 218: a one-day gap


def test_shuffling_the_future_leaves_past_forecasts_unchanged(short_series: Path) -> None:
    cfg = tiny(short_series)
    series = load_training_data(cfg)[0]
    before = run(series, cfg)
    rng = np.random.default_rng(0)
    values = series.values.copy()
    values[260:] = rng.permutation(values[260:])  # everything from day 260 on is scrambled
    shuffled = FeatureSeries(series.dates, values, series.names, series.target)
    after = run(shuffled, cfg)
    first = before.targets < 260
    for name, forecast in before.forecasts.items():  # the model, naive, drift, ewma and every interval baseline
        np.testing.assert_array_equal(forecast.point[first], after.forecasts[name].point[first])
        if forecast.quantiles is not None:
            np.testing.assert_array_equal(forecast.quantiles[first], after.forecasts[name].quantiles[first])
    assert set(holdout.BASELINES) <= set(before.forecasts)
    assert not np.array_equal(before.forecasts["model"].point[~first], after.forecasts["model"].point[~first])


def test_baselines_use_only_the_past() -> None:
    prices = np.array([100.0, 110.0, 121.0, 133.1, 146.41])
    targets = np.array([2, 3, 4])
    np.testing.assert_allclose(baselines.naive(prices, targets), [110.0, 121.0, 133.1])
    np.testing.assert_allclose(baselines.drift(prices, targets), [121.0, 133.1, 146.41])  # constant 10% growth
    ewma = baselines.ewma(prices, targets, span=1)  # alpha = 1: the last price
    np.testing.assert_allclose(ewma, [110.0, 121.0, 133.1])
    returns = baselines.past_returns(prices, np.array([4]), 2)
    np.testing.assert_allclose(returns, [[np.log(1.1), np.log(1.1)]])
