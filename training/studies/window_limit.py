"""The held-out simulated assets forecast by their own true model reading only the posted window, next to the
strongest simple methods: what the window itself, not the network, costs against a GARCH fitted on 1,000 days.

The simulated assets are the one place where the true model is known. Given its true parameters and shape, a
forecaster that reads only the window still has to estimate where the variance reverts to (the long-run level);
told the true level as well, it has what a GARCH fitted on the asset's own history learns. Between the two: the
level taken from the window (a plug-in estimate), the level integrated out by Bayes' rule over the window
(training/window_posterior.py), and the level and the leverage integrated out, which is what a reader that knows
the model family but not the asset faces. These bound readers that know the rest of the true model, not every
forecaster. The bundled default model is scored beside them, on the same paths and on 20 more paths of each
asset's parameters, so that what the window costs and what the model adds can be told apart beyond one path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.core.config import DEFAULT_QUANTILES, TrainConfig
from training.core.data import FeatureSeries
from training.core.synthetic import HELD_OUT, HELD_OUT_DAYS, SimulatedAsset, held_out_assets, simulate_asset
from training.publish.bundled import bundled_onnx
from training.scoring import baselines, metrics, significance, window_posterior
from training.studies import loo

WINDOW = 60
MODEL = "model"
LEVEL_SOURCES = {
    "window": "long-run variance from the window (mean square of its returns)",
    "integrated": "long-run variance integrated out (Bayes, over the window)",
    "integrated, leverage unknown": "long-run variance and leverage integrated out (Bayes, over the window)",
    "integrated, leverage unknown, leaning symmetric": "the same, the leverage prior 2/3 on no asymmetry",
    "true": "true long-run variance (not in the window)",
}
SOURCES = {MODEL: "the bundled default model (the loo table's model trained on all series)", **LEVEL_SOURCES}
# More paths of each held-out asset's parameters (the table's own are seeds 900-902), and who is scored on them:
# the model, the reader told the leverage and the one that leans symmetric (the two that come nearest the GARCHs)
PATH_SEEDS = tuple(range(950, 970))
PATH_SOURCES = (MODEL, "integrated", "integrated, leverage unknown, leaning symmetric")
# The leave-one-asset-out table adjusts each p across its series by Holm, which multiplies it by at most their
# number: below ALPHA / that, a loss is significant there whatever the other series score.
TABLE_SERIES = len(TrainConfig().data) + len(HELD_OUT)
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
    asset: SimulatedAsset,
    prices: np.ndarray,
    targets: np.ndarray,
    levels: tuple[float, ...],
    sources: tuple[str, ...] = tuple(LEVEL_SOURCES),
) -> dict[str, np.ndarray]:
    """Each level source's (N, Q) quantiles, centred on the last price as the simple methods' are: the true
    recursion and shape over the window, with the long-run variance from the window, integrated out, or the true
    one."""
    returns = np.diff(np.log(baselines.price_windows(prices, targets, WINDOW)), axis=1)
    readers = {name: prior for name, prior in INTEGRATED_LEVERAGE.items() if name in sources}
    moves = window_posterior.predictive_quantiles(asset, returns, levels, readers)
    given = {"window": (returns * returns).mean(axis=1), "true": np.full(len(targets), asset.daily_vol**2)}
    for source, level in given.items():
        if source in sources:
            sigma = true_filter_sigma(asset, returns, level)
            moves[source] = sigma[:, None] * innovation_quantiles(asset, levels)[None, :]
    return {source: prices[targets - 1][:, None] * np.exp(moves[source]) for source in sources}


def model_quantiles(model: Path, prices: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N, Q) price quantiles of an exported model (onnxruntime, CPU) from the window before each target."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    windows = baselines.price_windows(prices, targets, WINDOW).astype(np.float32)
    return np.asarray(session.run(None, {"window": windows})[1], dtype=np.float64)


@dataclass(frozen=True)
class LimitRow:
    """One held-out asset and level source: coverage and the pinball ratio (with DM p) to each simple method."""

    asset: str
    source: str
    coverage: tuple[float, float]  # 80%, 95%
    ratio: dict[str, float]
    p_value: dict[str, float]


def asset_rows(
    asset: SimulatedAsset,
    series: FeatureSeries,
    cache: Path,
    model: Path,
    sources: tuple[str, ...] = tuple(SOURCES),
) -> list[LimitRow]:
    """The model and every level source on one path's scored days (the leave-one-asset-out protocol's)."""
    levels = DEFAULT_QUANTILES
    targets = loo.scored_targets(series)
    prices, lv = series.prices, np.array(levels)
    last, actual = prices[targets - 1], prices[targets]
    simple = loo.baseline_forecasts(series, levels, WINDOW, cache)
    their_loss = {name: metrics.relative_pinball_by_day(last, actual, simple[name], lv) for name in loo.STRONGEST}
    readers = tuple(source for source in sources if source != MODEL)
    found = oracle_quantiles(asset, prices, targets, levels, readers)
    if MODEL in sources:
        found = {MODEL: model_quantiles(model, prices, targets), **found}
    rows = []
    for source, q in found.items():
        loss = metrics.relative_pinball_by_day(last, actual, q, lv)
        scores = metrics.interval_scores(actual, q, levels)
        rows.append(
            LimitRow(
                asset=asset.name,
                source=source,
                coverage=(scores["coverage_80"]["coverage"], scores["coverage_95"]["coverage"]),
                ratio={name: float(loss.mean() / other.mean()) for name, other in their_loss.items()},
                p_value={
                    name: significance.diebold_mariano_hac(loss, other)["p_value"] for name, other in their_loss.items()
                },
            )
        )
    return rows


def path_rows(
    asset: SimulatedAsset, cache: Path, model: Path, seeds: tuple[int, ...] = PATH_SEEDS, days: int = HELD_OUT_DAYS
) -> list[LimitRow]:
    """The model and the two nearest readers on more paths of the asset's parameters, a row per path and source."""
    return [
        row
        for seed in seeds
        for row in asset_rows(asset, simulate_asset(asset, days, seed), cache, model, PATH_SOURCES)
    ]


def significant(rows: list[LimitRow], method: str, alpha: float) -> int:
    """How many rows lose to `method` with DM p below alpha."""
    return sum(r.ratio[method] > 1 and r.p_value[method] < alpha for r in rows)


def paths_table(rows: list[LimitRow]) -> list[str]:
    """Per asset and source over its paths: the median ratio to each simple method and how often it loses
    significantly, unadjusted (p < 0.05) and under any Holm adjustment across the table's series."""
    against = " | ".join(f"vs {name.removeprefix('naive + ')}" for name in loo.STRONGEST)
    lines = [f"| held-out asset | forecaster | paths | 80% / 95% coverage (range) | {against} |", "|---|---|---|---|"]
    lines[1] += "---|" * len(loo.STRONGEST)
    for asset in dict.fromkeys(r.asset for r in rows):
        for source in PATH_SOURCES:
            mine = [r for r in rows if r.asset == asset and r.source == source]
            cells = " | ".join(
                f"{np.median([r.ratio[n] for r in mine]):.4f}; worse {significant(mine, n, loo.ALPHA)} / "
                f"{significant(mine, n, loo.ALPHA / TABLE_SERIES)}"
                for n in loo.STRONGEST
            )
            low, high = np.min([r.coverage for r in mine], axis=0), np.max([r.coverage for r in mine], axis=0)
            coverage = f"{low[0]:.3f}-{high[0]:.3f} / {low[1]:.3f}-{high[1]:.3f}"
            lines.append(f"| {asset} | {SOURCES[source]} | {len(mine)} | {coverage} | {cells} |")
    return lines


def table(rows: list[LimitRow]) -> list[str]:
    """The markdown table: one line per asset and forecaster."""
    against = " | ".join(f"vs {name.removeprefix('naive + ')} (p)" for name in loo.STRONGEST)
    lines = [
        f"| held-out asset | forecaster | 80% / 95% coverage | {against} |",
        "|---|---|---|" + "---|" * len(loo.STRONGEST),
    ]
    for row in rows:
        cells = " | ".join(f"{row.ratio[n]:.4f} ({row.p_value[n]:.3f})" for n in loo.STRONGEST)
        coverage = f"{row.coverage[0]:.3f} / {row.coverage[1]:.3f}"
        lines.append(f"| {row.asset} | {SOURCES[row.source]} | {coverage} | {cells} |")
    return lines


def write(out: Path, rows: list[LimitRow], paths: list[LimitRow]) -> Path:
    """reports/window_limit.md."""
    text = [
        "# What a 60-price window costs on the held-out simulated assets, given their true model",
        "",
        "Generated by `python -m training window-limit`. Each held-out simulated asset of reports/loo.md, on the "
        "same days, forecast by the bundled default model (the first row: the same model and days as that table) "
        "and by its own true model: its GJR recursion with its true alpha, gamma, beta and drift "
        "run over the posted 60-price window, and its true innovation quantiles (Student t or Hansen's skewed t),"
        " centred on the last price as the simple methods are. The window does not hold the long-run variance the"
        " recursion reverts to: the first reader takes it from the window (the mean square of its "
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
        f"## The same on {len(PATH_SEEDS)} more paths of each asset's parameters",
        "",
        f"Path seeds {PATH_SEEDS[0]}-{PATH_SEEDS[-1]} (the table above: 900-902), scored the same way. Each cell: "
        "the median ratio over the paths; then on how many paths the forecaster is significantly worse, first "
        f"with p < {loo.ALPHA} as it stands, then with p < {loo.ALPHA} / {TABLE_SERIES} (significant under the "
        f"leave-one-asset-out table's Holm adjustment across its {TABLE_SERIES} series, whatever the others score).",
        "",
        *paths_table(paths),
        "",
    ]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "window_limit.md"
    path.write_text("\n".join(text))
    return path


def run_window_limit(out: Path, model: Path | None = None) -> list[str]:
    """Every held-out simulated asset: the model and every reader on its path, the model and the nearest readers
    on more paths; writes <out>/window_limit.md, returns the tables."""
    model = model or bundled_onnx()
    cache = out / ".cache"
    assets = zip(HELD_OUT, held_out_assets(), strict=True)
    rows = [row for asset, series in assets for row in asset_rows(asset, series, cache, model)]
    paths = [row for asset in HELD_OUT for row in path_rows(asset, cache, model)]
    write(out, rows, paths)
    return [*table(rows), "", *paths_table(paths)]
