"""A backtest's scores: both segments, every metric, per step for multi-day models."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.training.studies.conftest import run, tiny
from training.core.data import load_training_data
from training.studies import evaluate


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


def test_multi_day_models_are_scored_per_step(short_series: Path) -> None:
    cfg = tiny(short_series)
    cfg = replace(cfg, model=replace(cfg.model, horizon=3))
    series = load_training_data(cfg)[0]
    result = run(series, cfg)
    scores = evaluate.score_backtest(result, series)
    steps = scores["holdout"]["forecasters"]["model"]["mae_by_step"]
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert steps[0]["model"] == pytest.approx(scores["holdout"]["forecasters"]["model"]["mae"])
