"""The window-limit check: the true recursion against arch's own, and the oracle's rows on a real held-out path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from arch.univariate import GARCH

from training.core.synthetic import HELD_OUT, simulate_asset
from training.publish.bundled import bundled_onnx
from training.studies import window_limit


def test_true_filter_matches_arch_gjr_recursion() -> None:
    """Started at the level it reverts to, the filter's next-day variance is arch's GJR variance recursion."""
    asset = HELD_OUT[0]  # GJR with leverage and a drift
    prices = simulate_asset(asset, 400, seed=5).prices
    returns = np.diff(np.log(np.stack([prices[i : i + window_limit.WINDOW] for i in (0, 150, 300)])), axis=1)
    level = np.array([1e-4, 2e-4, 4e-4])
    ours = window_limit.true_filter_sigma(asset, returns, level) ** 2
    beta = asset.persistence - asset.alpha - asset.gamma / 2
    for row, lv, got in zip(returns, level, ours, strict=True):
        surprises = row - asset.drift * asset.daily_vol
        resids = np.append(surprises, 0.0)  # arch's sigma2[t] uses returns before t: one step more gives next day's
        sigma2 = np.zeros(len(resids))
        params = np.array([(1 - asset.persistence) * lv, asset.alpha, asset.gamma, beta])
        bounds = np.tile([0.0, np.inf], (len(resids), 1))
        GARCH(p=1, o=1, q=1).compute_variance(params, resids, sigma2, lv, bounds)
        assert abs(got / sigma2[-1] - 1) < 1e-9


def test_innovation_quantiles_are_standardised_and_skewed() -> None:
    """Student t quantiles are symmetric; Hansen's skew with negative lambda makes the left tail longer."""
    levels = (0.025, 0.1, 0.5, 0.9, 0.975)
    wild = window_limit.innovation_quantiles(HELD_OUT[1], levels)
    assert np.allclose(wild, -wild[::-1]) and wild[1] > -1.2815  # fat tails: the 10% quantile sits inside N(0,1)'s
    skewed = window_limit.innovation_quantiles(HELD_OUT[0], levels)
    assert -skewed[0] > skewed[-1]


def test_rows_on_a_held_out_path(tmp_path: Path) -> None:
    """On a real path and the simple methods fitted to it: a row for the model and per level source, finite
    ratios, and the true level, or the level integrated out, gives 80% coverage nearer 0.8 than the window's
    plug-in guess does for a fat-tailed GARCH-t. More paths summarise per source. Writes the report."""
    asset = replace(HELD_OUT[1], name="wild, short")
    series = simulate_asset(asset, 2200, seed=901)
    model = bundled_onnx()
    rows = window_limit.asset_rows(asset, series, tmp_path / "cache", model)
    assert [r.source for r in rows] == list(window_limit.SOURCES)
    for row in rows:
        assert all(0.9 < r < 1.1 for r in row.ratio.values())
        assert all(0.0 <= p <= 1.0 for p in row.p_value.values())
        assert 0.7 < row.coverage[0] < 0.9 and 0.88 < row.coverage[1] < 0.99
    by_source = {r.source: r for r in rows}
    for better in ("true", "integrated"):
        assert abs(by_source[better].coverage[0] - 0.8) < abs(by_source["window"].coverage[0] - 0.8)
    assert set(rows[0].ratio) == {"naive + FHS", "naive + GARCH(1,1)-t", "naive + GJR-GARCH-skew-t"}
    paths = window_limit.path_rows(asset, tmp_path / "cache", model, seeds=(901, 952), days=2200)
    assert [(r.source, r.ratio) for r in paths[: len(window_limit.PATH_SOURCES)]] == [
        (r.source, r.ratio) for r in rows if r.source in window_limit.PATH_SOURCES
    ]  # the first path is the one above: the same rows, computed again
    text = window_limit.write(tmp_path, rows, paths).read_text()
    assert "| wild, short | true long-run variance (not in the window) |" in text
    model_lines = [line for line in text.splitlines() if line.startswith("| wild, short | the bundled default")]
    assert len(model_lines) == 2 and "| 2 |" in model_lines[1]  # its row on the path, then over the two paths


def test_paths_table_counts_significant_losses_only() -> None:
    """A path counts as a loss when the ratio is above 1 with p < 0.05, and under any Holm adjustment when p is
    below 0.05 over the table's series; a significant win is not a loss; the median is over the paths."""
    methods = ("naive + FHS", "naive + GARCH(1,1)-t", "naive + GJR-GARCH-skew-t")

    def row(source: str, ratio: float, p: float) -> window_limit.LimitRow:
        return window_limit.LimitRow("a", source, (0.8, 0.95), dict.fromkeys(methods, ratio), dict.fromkeys(methods, p))

    rows = [
        row(source, r, p)
        for source in window_limit.PATH_SOURCES
        for r, p in ((1.02, 0.001), (1.01, 0.03), (0.98, 0.001))
    ]
    assert window_limit.significant(rows[:3], methods[1], 0.05) == 2
    assert window_limit.significant(rows[:3], methods[1], 0.05 / window_limit.TABLE_SERIES) == 1
    line = window_limit.paths_table(rows)[2]
    assert line.count("1.0100; worse 2 / 1") == len(methods) and "| 3 |" in line
