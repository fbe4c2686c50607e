"""Leave-one-asset-out: no fold sees the series it scores; a real, tiny run of the protocol and its report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from training.core.config import LSTMConfig, TrainConfig
from training.core.csvfile import PriceSeries
from training.core.data import BUNDLED_DATA, DEFAULT_TRAINING_DATA, FeatureSeries, load_training_data
from training.core.synthetic import HELD_OUT, SimulatedAsset, draw_asset, held_out_assets
from training.core.universe import SIMULATED_SEED
from training.scoring import holdout
from training.studies import loo, loo_report

TWO = [BUNDLED_DATA / "sp500.csv.gz", BUNDLED_DATA / "nasdaq.csv.gz"]


def tiny(data: list[Path]) -> TrainConfig:
    return TrainConfig(
        data=list(data),
        simulated=2,
        epochs=1,
        windows_per_epoch=3000,
        model=LSTMConfig(layers=1, hidden=4, max_window=250),
    )


def test_every_fold_trains_without_the_series_it_scores() -> None:
    config = TrainConfig()  # every bundled series and the simulated paths
    real = load_training_data(config)
    simulated = held_out_assets()
    found = loo.folds(config, real, simulated)
    assert [s.source for s in real] == [p.name for p in DEFAULT_TRAINING_DATA]
    for fold, series in zip(found, real, strict=False):
        assert fold.scored == [series.source]
        assert series.source not in [Path(p).name for p in fold.config.data]
        assert len(fold.config.data) == len(DEFAULT_TRAINING_DATA) - 1
        assert fold.config.simulated == config.simulated  # the simulated training paths stay in every fold
    assert found[-1].config == config and found[-1].scored == [s.source for s in simulated]
    # no training path has a held-out asset's parameters
    rng = np.random.default_rng(SIMULATED_SEED)
    drawn = {params(draw_asset(rng, i)) for i in range(config.simulated)}
    assert not drawn & {params(a) for a in HELD_OUT}


def params(asset: SimulatedAsset) -> tuple[float, ...]:
    return (asset.daily_vol, asset.persistence, asset.alpha, asset.gamma, asset.nu, asset.skew)


def test_every_series_is_scored_on_its_newest_days_leaving_each_baseline_its_history() -> None:
    days = {s.source: len(loo.scored_targets(s)) for s in load_training_data(TrainConfig())}
    assert days["sp500.csv.gz"] == days["djia.csv.gz"] == loo.MAX_DAYS
    assert days["goog.csv.gz"] == 2148 - max(loo.FIT_DAYS + 1, loo.LONGEST_WINDOW) >= loo.MIN_DAYS
    assert days["fx-usd-dem.csv.gz"] == 1867 - max(loo.FIT_DAYS + 1, loo.LONGEST_WINDOW) >= loo.MIN_DAYS
    short = load_training_data(
        replace(TrainConfig(), data=[Path(__file__).parents[3] / "tests" / "data" / "Google_Stock_Price_Train.csv"])
    )[0]
    with pytest.raises(ValueError, match="fewer than 500"):
        loo.scored_targets(short)


@pytest.mark.slow
def test_a_tiny_run_scores_each_series_with_a_model_that_never_saw_it(tmp_path: Path) -> None:
    config = tiny(TWO)
    real = [newest(s, SCORED_PRICES) for s in load_training_data(config)]
    simulated = [newest(held_out_assets()[0], SCORED_PRICES)]
    outcome = loo.run(config, real, tmp_path / "cache", jobs=2, simulated=simulated)
    assert list(outcome.by_length) == [60, 250] and outcome.rows is outcome.by_length[60]
    assert set(outcome.speeds) == {60, 250} and outcome.speeds[60] > outcome.speeds[250] > 100
    for n, found in outcome.by_length.items():
        check_rows(found, family=n == 60)
    assert outcome.train_seconds > 0 and outcome.windows_per_second > 1000
    # the baselines at each length and the family reader at the shortest, cached for the next run
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 3 * 2 and len(list((tmp_path / "cache").glob("*.npy"))) == 3
    verdicts = loo.verdicts(outcome.rows)
    text = loo_report.markdown(
        outcome.rows,
        verdicts,
        {
            "minutes": 1.0,
            "jobs": 2,
            "quantiles": [0.025, 0.1, 0.5, 0.9, 0.975],
            "architecture": "tiny",
            "by_length": outcome.by_length,
        },
    )
    assert "| sp500.csv.gz | 549 |" in text and "DQ p 10% / 90%" in text
    assert "## 250 prices posted" in text and "## 60 prices posted" in text and "vs family reader" in text


SCORED_PRICES = 1550  # leaves 549 days to score (the protocol's minimum is 500): the GARCH fits dominate its time


def newest(series: FeatureSeries, n: int) -> FeatureSeries:
    """A series' newest n days (the folds still train on whole files; only the scored series are cut)."""
    t = series.target
    target = PriceSeries(t.dates[-n:], t.prices[-n:], t.column, t.source, t.sha256)
    return FeatureSeries(series.dates[-n:], series.values[-n:], series.names, target)


def check_rows(found: list[dict], family: bool) -> None:
    """Every series scored by a model that never saw it, against the simple methods (and the family reader)."""
    rows = {r["series"]: r for r in found}
    assert list(rows) == ["sp500.csv.gz", "nasdaq.csv.gz", held_out_assets()[0].source]
    for r in rows.values():
        model = r["forecasters"]["model"]
        assert set(r["forecasters"]) == {"model", *holdout.BASELINES, *([loo.FAMILY] if family else [])}
        assert set(r["dm"]) == {*loo.STRONGEST, *([loo.FAMILY] if family else [])}
        assert 0.7 < model["intervals"]["coverage_80"]["coverage"] < 0.9
        assert set(model["dq_p_value"]) == {"0.1", "0.9"} and len(model["pinball_by_level"]) == 5
        for other in loo.STRONGEST:
            assert r["dm"][other]["p_holm"] >= r["dm"][other]["p_value"]
            pinball = r["forecasters"][other]["intervals"]["pinball_pct"]
            assert r["ratio"][other] == pytest.approx(model["intervals"]["pinball_pct"] / pinball)


def test_verdicts_read_wins_losses_and_coverage_from_the_rows() -> None:
    def row(name: str, stats: dict[str, float], cov: tuple[float, float]) -> dict:
        dm = {
            o: {"statistic": stats[o], "p_value": 0.001, "p_holm": 0.001 if abs(stats[o]) > 2 else 0.5}
            for o in loo.STRONGEST
        }
        intervals = {"coverage_80": {"coverage": cov[0]}, "coverage_95": {"coverage": cov[1]}}
        return {"series": name, "dm": dm, "forecasters": {"model": {"intervals": intervals}}}

    rows = [
        row("a", {holdout.FHS: -3, holdout.GARCH_T: -3, holdout.GJR: 0}, (0.8, 0.95)),
        row("b", {holdout.FHS: -3, holdout.GARCH_T: 0, holdout.GJR: 3}, (0.76, 0.95)),
    ]
    found = loo.verdicts(rows)
    assert found["wins_over_fhs_and_garch_t"] == ["a"]
    assert found["significant_losses"] == ["b vs GJR-GARCH-skew-t"]
    assert found["coverage_outside"] == ["b"]
