"""Fixtures the studies' tests share: a short real series and a tiny walk-forward run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import cut_csv
from training.core.data import FeatureSeries
from training.net.model import LSTMConfig
from training.net.train import TrainConfig
from training.studies import evaluate


def tiny(data: Path) -> TrainConfig:
    model = LSTMConfig(window=20, max_window=60, layers=1, hidden=4)
    return TrainConfig(data=[data], model=model, epochs=2, val_days=40, test_days=40, progress=False, threads=1)


@pytest.fixture(scope="module")
def short_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cut_csv(tmp_path_factory.mktemp("wf") / "sp500_wf.csv", 300, start=1000)


def run(series: FeatureSeries, cfg: TrainConfig) -> evaluate.Backtest:
    bt = evaluate.BacktestConfig(train=cfg, years=40 / 252, holdout_days=40, refit_every=20, fine_tune_epochs=1)
    return evaluate.backtest(bt, [series], {})
