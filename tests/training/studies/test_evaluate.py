"""The walk-forward backtest's invariants on a short real series with tiny models."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.conftest import cut_csv
from tests.training.studies.conftest import run, tiny
from training.core.data import load_training_data
from training.net.train import TrainConfig
from training.studies import evaluate


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


def test_the_tutorial_variant_is_the_tutorials_model() -> None:
    variants = evaluate.default_variants(TrainConfig(), None)
    tutorial = variants["tutorial (min-max 4x50)"]
    assert (tutorial.normalize, tutorial.model.layers, tutorial.model.hidden, tutorial.model.head) == (
        "minmax",
        4,
        50,
        "free",
    )
