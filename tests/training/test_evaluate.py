"""The walk-forward backtest's invariants on a short real series with tiny models."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import cut_csv
from training.core.data import FeatureSeries, load_training_data
from training.net.model import LSTMConfig
from training.net.train import TrainConfig
from training.scoring import baselines, holdout
from training.studies import evaluate


def tiny(data: Path) -> TrainConfig:
    model = LSTMConfig(window=20, layers=1, hidden=4)
    return TrainConfig(data=[data], model=model, epochs=2, val_days=40, test_days=40, progress=False, threads=1)


@pytest.fixture(scope="module")
def short_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cut_csv(tmp_path_factory.mktemp("wf") / "sp500_wf.csv", 300, start=1000)


def run(series: FeatureSeries, cfg: TrainConfig) -> evaluate.Backtest:
    bt = evaluate.BacktestConfig(train=cfg, years=40 / 252, holdout_days=40, refit_every=20, fine_tune_epochs=1)
    return evaluate.backtest(bt, [series], {})


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


def test_scores_cover_both_segments_with_every_metric(short_series: Path) -> None:
    cfg = tiny(short_series)
    series = load_training_data(cfg)[0]
    result = run(series, cfg)
    scores = evaluate.score_backtest(result, series)
    assert scores["walk_forward"]["days"] == 40 and scores["holdout"]["days"] == 40
    model = scores["holdout"]["forecasters"]["model"]
    for key in ("mae", "rmse", "mape", "mase", "return_mae", "return_rmse", "direction", "dm_vs_naive"):
        assert key in model
    assert {"coverage_80", "coverage_95", "pinball", "pinball_pct"} <= set(model["intervals"])
    coverage = model["intervals"]["coverage_80"]
    assert {"uc_p_value", "ind_p_value", "mean_width_pct", "winkler_pct"} <= set(coverage)
    assert set(model["dm_pinball_vs_garch"]) == {"statistic", "p_value", "mean_loss_difference"}
    naive = scores["holdout"]["forecasters"]["naive"]
    targets = result.targets[result.targets >= result.holdout_start]
    expected = np.mean(np.abs(series.prices[targets] - series.prices[targets - 1]))
    assert naive["mae"] == pytest.approx(expected)


def test_baselines_use_only_the_past() -> None:
    prices = np.array([100.0, 110.0, 121.0, 133.1, 146.41])
    targets = np.array([2, 3, 4])
    np.testing.assert_allclose(baselines.naive(prices, targets), [110.0, 121.0, 133.1])
    np.testing.assert_allclose(baselines.drift(prices, targets), [121.0, 133.1, 146.41])  # constant 10% growth
    ewma = baselines.ewma(prices, targets, span=1)  # alpha = 1: the last price
    np.testing.assert_allclose(ewma, [110.0, 121.0, 133.1])
    returns = baselines.past_returns(prices, np.array([4]), 2)
    np.testing.assert_allclose(returns, [[np.log(1.1), np.log(1.1)]])


def test_cross_asset_and_out_of_range_checks_run(short_series: Path, tmp_path: Path) -> None:
    cfg = tiny(short_series)
    series = load_training_data(cfg)[0]
    result = run(series, cfg)
    other_csv = cut_csv(tmp_path / "other.csv", 300, start=1000)
    other = load_training_data(replace(cfg, data=[other_csv]))[0]
    cross = evaluate.cross_asset(result, 20, other, series)
    assert cross["days"] == 80
    assert {"model", "naive", "naive + GARCH(1,1)-t", "naive + EWMA Gaussian"} <= set(cross["forecasters"])
    assert "coverage_95" in cross["forecasters"]["model"]["intervals"]
    oor = evaluate.out_of_range(cfg, series, str(series.dates[150]), 40)
    assert set(oor["models"]) == {"model (vol normalisation)", "tutorial (global min-max)"}


def test_multi_day_models_are_scored_per_step(short_series: Path) -> None:
    cfg = tiny(short_series)
    cfg = replace(cfg, model=replace(cfg.model, horizon=3))
    series = load_training_data(cfg)[0]
    result = run(series, cfg)
    scores = evaluate.score_backtest(result, series)
    steps = scores["holdout"]["forecasters"]["model"]["mae_by_step"]
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert steps[0]["model"] == pytest.approx(scores["holdout"]["forecasters"]["model"]["mae"])


def test_the_tutorial_variant_is_the_tutorials_model() -> None:
    variants = evaluate.default_variants(TrainConfig(), None)
    tutorial = variants["tutorial (min-max 4x50)"]
    assert (tutorial.normalize, tutorial.model.layers, tutorial.model.hidden, tutorial.model.head) == (
        "minmax",
        4,
        50,
        "free",
    )
