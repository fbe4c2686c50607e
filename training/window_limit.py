"""The held-out simulated assets forecast by their own true model reading only the posted window, next to the
strongest simple methods: what the window itself, not the network, costs against a GARCH fitted on 1,000 days.

The simulated assets are the one place where the true model is known. Given its true parameters and shape, a
forecaster that reads only the window still has to estimate where the variance reverts to (the long-run level);
told the true level as well, it has what a GARCH fitted on the asset's own history learns. Between the two: the
level taken from the window (a plug-in estimate), the level integrated out by Bayes' rule over the window
(training/window_posterior.py), and the level and the leverage integrated out, which is what a reader that knows
the model family but not the asset faces. These bound readers that know the rest of the true model, not every
forecaster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training import baselines, loo, metrics, window_posterior
from training.config import DEFAULT_QUANTILES
from training.data import FeatureSeries
from training.synthetic import HELD_OUT, SimulatedAsset, held_out_assets

WINDOW = 60
LEVEL_SOURCES = {
    "window": "long-run variance from the window (mean square of its returns)",
    "integrated": "long-run variance integrated out (Bayes, over the window)",
    "integrated, leverage unknown": "long-run variance and leverage integrated out (Bayes, over the window)",
    "integrated, leverage unknown, leaning symmetric": "the same, the leverage prior 2/3 on no asymmetry",
    "true": "true long-run variance (not in the window)",
}
# The leverage prior of each integrated source (None: the asset's own leverage is known)
INTEGRATED_LEVERAGE = {
    "integrated": None,
    "integrated, leverage unknown": "even",
    "integrated, leverage unknown, leaning symmetric": "leaning symmetric",
}


def innovation_quantiles(asset: SimulatedAsset, levels: tuple[float, ...]) -> np.ndarray:
    """(Q,) quantiles of the asset's standardised innovations (Hansen's skewed t, or Student t without skew)."""
    dist, shape = window_posterior.innovation(asset)
    return np.asarray(dist.ppf(np.array(levels), shape))


def true_filter_sigma(asset: SimulatedAsset, returns: np.ndarray, level: np.ndarray) -> np.ndarray:
    """(N,) next-day sigma from the asset's GJR recursion over each row of (N, T) daily log-returns, started at
    and reverting to `level` (N,), the long-run variance it is given."""
    surprise = returns - asset.drift * asset.daily_vol  # the recursion's news is the return less its mean
    beta = asset.persistence - asset.alpha - asset.gamma / 2
    variance = level.copy()
    for t in range(surprise.shape[1]):
        news = asset.alpha + asset.gamma * (surprise[:, t] < 0)
        variance = (1 - asset.persistence) * level + news * surprise[:, t] ** 2 + beta * variance
    return np.sqrt(variance)


def oracle_quantiles(
    asset: SimulatedAsset, prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...]
) -> dict[str, np.ndarray]:
    """Each level source's (N, Q) quantiles, centred on the last price as the simple methods' are: the true
    recursion and shape over the window, with the long-run variance from the window, integrated out, or the true
    one."""
    returns = np.diff(np.log(baselines.price_windows(prices, targets, WINDOW)), axis=1)
    moves = window_posterior.predictive_quantiles(asset, returns, levels, INTEGRATED_LEVERAGE)
    given = {"window": (returns * returns).mean(axis=1), "true": np.full(len(targets), asset.daily_vol**2)}
    for source, level in given.items():
        sigma = true_filter_sigma(asset, returns, level)
        moves[source] = sigma[:, None] * innovation_quantiles(asset, levels)[None, :]
    return {source: prices[targets - 1][:, None] * np.exp(moves[source]) for source in LEVEL_SOURCES}


@dataclass(frozen=True)
class LimitRow:
    """One held-out asset and level source: coverage and the pinball ratio (with DM p) to each simple method."""

    asset: str
    source: str
    coverage: tuple[float, float]  # 80%, 95%
    ratio: dict[str, float]
    p_value: dict[str, float]


def asset_rows(asset: SimulatedAsset, series: FeatureSeries, cache: Path) -> list[LimitRow]:
    """Every level source on one held-out asset's scored days (the leave-one-asset-out protocol's)."""
    levels = DEFAULT_QUANTILES
    targets = loo.scored_targets(series)
    prices, lv = series.prices, np.array(levels)
    last, actual = prices[targets - 1], prices[targets]
    simple = loo.baseline_forecasts(series, levels, WINDOW, cache)
    their_loss = {name: metrics.relative_pinball_by_day(last, actual, simple[name], lv) for name in loo.STRONGEST}
    rows = []
    for source, q in oracle_quantiles(asset, prices, targets, levels).items():
        loss = metrics.relative_pinball_by_day(last, actual, q, lv)
        scores = metrics.interval_scores(actual, q, levels)
        rows.append(
            LimitRow(
                asset=asset.name,
                source=source,
                coverage=(scores["coverage_80"]["coverage"], scores["coverage_95"]["coverage"]),
                ratio={name: float(loss.mean() / other.mean()) for name, other in their_loss.items()},
                p_value={
                    name: metrics.diebold_mariano_hac(loss, other)["p_value"] for name, other in their_loss.items()
                },
            )
        )
    return rows


def table(rows: list[LimitRow]) -> list[str]:
    """The markdown table: one line per asset and level source."""
    against = " | ".join(f"vs {name.removeprefix('naive + ')} (p)" for name in loo.STRONGEST)
    lines = [
        f"| held-out asset | long-run variance | 80% / 95% coverage | {against} |",
        "|---|---|---|" + "---|" * len(loo.STRONGEST),
    ]
    for row in rows:
        cells = " | ".join(f"{row.ratio[n]:.4f} ({row.p_value[n]:.3f})" for n in loo.STRONGEST)
        coverage = f"{row.coverage[0]:.3f} / {row.coverage[1]:.3f}"
        lines.append(f"| {row.asset} | {LEVEL_SOURCES[row.source]} | {coverage} | {cells} |")
    return lines


def write(out: Path, rows: list[LimitRow]) -> Path:
    """reports/window_limit.md."""
    text = [
        "# What a 60-price window costs on the held-out simulated assets, given their true model",
        "",
        "Generated by `python -m training window-limit`. Each held-out simulated asset of reports/loo.md, on the "
        "same days, forecast by its own true model: its GJR recursion with its true alpha, gamma, beta and drift "
        "run over the posted 60-price window, and its true innovation quantiles (Student t or Hansen's skewed t),"
        " centred on the last price as the simple methods are. The window does not hold the long-run variance the"
        " recursion reverts to: the first row of each asset takes it from the window (the mean square of its "
        "returns); the second integrates it out by Bayes' rule over the window's returns (prior: log-uniform "
        "long-run daily volatility 0.2%-8%, starting variance 1/4-4 times it; predictive: the posterior mixture's"
        " quantiles); the third integrates out the leverage as well (the true news share alpha + gamma/2 split "
        "over no, half and all-in-falls asymmetry, evenly), the fourth the same with 2/3 of the prior on no "
        "asymmetry; the last is told the true level. Ratios are pinball loss over FHS's, GARCH(1,1)-t's and GJR-"
        "GARCH-skew-t's (the GARCHs refitted every 250 days on the 1,000 returns before); p is Diebold-Mariano "
        "(Newey-West, 5 lags), not adjusted across rows. These rows bound readers that know the rest of the true "
        "model (persistence, news share, innovation shape), not every forecaster.",
        "",
        *table(rows),
        "",
    ]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "window_limit.md"
    path.write_text("\n".join(text))
    return path


def run_window_limit(out: Path) -> list[str]:
    """Every held-out simulated asset, both level sources; writes <out>/window_limit.md, returns the table."""
    assets = zip(HELD_OUT, held_out_assets(), strict=True)
    rows = [row for asset, series in assets for row in asset_rows(asset, series, out / ".cache")]
    write(out, rows)
    return table(rows)
