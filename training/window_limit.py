"""How well any forecaster that reads only the posted window can do on the held-out simulated assets: their own
GJR recursion and innovation distribution, run over the window, next to GARCH-t and GJR-skew-t fitted on 1,000 days.

The simulated assets are the one place where the true model is known. Given their true parameters and shape, a
forecaster that reads only the window still has to guess where the variance reverts to (the long-run level);
given the true level as well, it has everything a GARCH fitted on the asset's own history learns. The gap between
the two rows is what the window cannot say. Run: `python -m training.window_limit` (reports/window_limit.md).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from arch.univariate import SkewStudent, StudentsT

from training import holdout, loo, metrics
from training.config import DEFAULT_QUANTILES
from training.data import FeatureSeries
from training.synthetic import HELD_OUT, SimulatedAsset, held_out_assets

WINDOW = 60
FITTED = (holdout.GARCH_T, holdout.GJR)
LEVEL_SOURCES = {
    "window": "long-run variance from the window (mean square of its returns)",
    "true": "true long-run variance (not in the window)",
}


def innovation_quantiles(asset: SimulatedAsset, levels: tuple[float, ...]) -> np.ndarray:
    """(Q,) quantiles of the asset's standardised innovations (Hansen's skewed t, or Student t without skew)."""
    if asset.skew:
        return np.asarray(SkewStudent().ppf(np.array(levels), np.array([asset.nu, asset.skew])))
    return np.asarray(StudentsT().ppf(np.array(levels), np.array([asset.nu])))


def true_filter_sigma(asset: SimulatedAsset, windows: np.ndarray, level: np.ndarray) -> np.ndarray:
    """(N,) next-day sigma from the asset's GJR recursion over each (N, T) price window, started at and
    reverting to `level` (N,), the long-run variance it is told."""
    r = np.diff(np.log(windows), axis=1) - asset.drift * asset.daily_vol  # the recursion's news is the surprise
    beta = asset.persistence - asset.alpha - asset.gamma / 2
    variance = level.copy()
    for t in range(r.shape[1]):
        news = asset.alpha + asset.gamma * (r[:, t] < 0)
        variance = (1 - asset.persistence) * level + news * r[:, t] ** 2 + beta * variance
    return np.sqrt(variance)


def oracle_quantiles(
    asset: SimulatedAsset, prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...], source: str
) -> np.ndarray:
    """(N, Q) quantiles centred on the last price, as the baselines are: the true recursion and shape over the
    window, with the long-run variance from the window or the true one."""
    windows = prices[targets[:, None] + np.arange(-WINDOW, 0)[None, :]]
    r = np.diff(np.log(windows), axis=1)
    level = (r * r).mean(axis=1) if source == "window" else np.full(len(targets), asset.daily_vol**2)
    sigma = true_filter_sigma(asset, windows, level)
    return prices[targets - 1][:, None] * np.exp(sigma[:, None] * innovation_quantiles(asset, levels)[None, :])


@dataclass(frozen=True)
class LimitRow:
    """One held-out asset and level source: coverage and the pinball ratio (with DM) to each fitted GARCH."""

    asset: str
    source: str
    coverage: tuple[float, float]  # 80%, 95%
    ratio: dict[str, float]
    p_value: dict[str, float]


def asset_rows(asset: SimulatedAsset, series: FeatureSeries, cache: Path) -> list[LimitRow]:
    """Both level sources on one held-out asset's scored days (the leave-one-asset-out protocol's)."""
    levels = DEFAULT_QUANTILES
    targets = loo.scored_targets(series)
    prices, lv = series.prices, np.array(levels)
    last, actual = prices[targets - 1], prices[targets]
    fitted = loo.baseline_forecasts(series, levels, WINDOW, cache)
    their_loss = {name: metrics.relative_pinball_by_day(last, actual, fitted[name], lv) for name in FITTED}
    rows = []
    for source in LEVEL_SOURCES:
        q = oracle_quantiles(asset, prices, targets, levels, source)
        loss = metrics.relative_pinball_by_day(last, actual, q, lv)
        inside = [float(np.mean((actual >= q[:, i]) & (actual <= q[:, -1 - i]))) for i in (1, 0)]
        rows.append(
            LimitRow(
                asset=asset.name,
                source=source,
                coverage=(inside[0], inside[1]),
                ratio={name: float(loss.mean() / their_loss[name].mean()) for name in FITTED},
                p_value={name: metrics.diebold_mariano_hac(loss, their_loss[name])["p_value"] for name in FITTED},
            )
        )
    return rows


def table(rows: list[LimitRow]) -> list[str]:
    """The markdown table: one line per asset and level source."""
    against = " | ".join(f"vs {name.removeprefix('naive + ')} (p)" for name in FITTED)
    lines = [
        f"| held-out asset | long-run variance | 80% / 95% coverage | {against} |",
        "|---|---|---|" + "---|" * len(FITTED),
    ]
    for row in rows:
        cells = [f"{row.ratio[n]:.4f} ({row.p_value[n]:.3f})" for n in FITTED]
        lines.append(
            f"| {row.asset} | {LEVEL_SOURCES[row.source]} | {row.coverage[0]:.3f} / {row.coverage[1]:.3f} | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def write(out: Path, rows: list[LimitRow]) -> Path:
    """reports/window_limit.md."""
    text = [
        "# What a 60-price window can reach on the held-out simulated assets",
        "",
        "Generated by `python -m training.window_limit`. Each held-out simulated asset of reports/loo.md, on the same "
        "days, forecast by its own true model: its GJR recursion with its true alpha, gamma and beta run over the "
        "posted 60-price window, and its true innovation quantiles (Student t or Hansen's skewed t), centred on the "
        "last price as the baselines are. The window does not hold the long-run variance the recursion reverts "
        "to: the first row of each asset takes it from the window, the second is told the true one. Ratios are "
        "pinball loss over GARCH(1,1)-t's and GJR-GARCH-skew-t's (refitted every 250 days on the 1,000 returns "
        "before); p is Diebold-Mariano (Newey-West, 5 lags), not adjusted across rows.",
        "",
        *table(rows),
        "",
    ]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "window_limit.md"
    path.write_text("\n".join(text))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.window_limit", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("reports"), help="where window_limit.md goes")
    parser.add_argument("--cache", type=Path, default=None, help="baseline cache (default: <out>/.cache)")
    args = parser.parse_args(argv)
    rows = [
        row
        for asset, series in zip(HELD_OUT, held_out_assets(), strict=True)
        for row in asset_rows(asset, series, args.cache or args.out / ".cache")
    ]
    print("\n".join(table(rows)))
    print(f"wrote {write(args.out, rows)}")


if __name__ == "__main__":
    main()
