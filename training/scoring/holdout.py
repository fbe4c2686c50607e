"""The newest days of every series, held out: a model scored next to naive and the simple interval methods
(GARCH(1,1)-t, GJR-GARCH-skew-t, filtered historical simulation, EWMA) on them, pooled and series by series."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from training.core.csvfile import load_csv
from training.core.data import DEFAULT_DATA, FeatureSeries, make_feature_windows
from training.core.records import DMTest, ScoreRow, ScoreTable
from training.core.synthetic import SIMULATED
from training.scoring import baselines, family, metrics, significance

# (N, T, F) windows -> (N,) next-day point forecasts and (N, Q) quantiles
Forecaster = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]
GARCH_T, GJR, FHS, EWMA = (
    "naive + GARCH(1,1)-t",
    "naive + GJR-GARCH-skew-t",
    "naive + FHS",
    "naive + EWMA Gaussian",
)
BASELINES = (GARCH_T, GJR, FHS, EWMA)
STRONGEST = (FHS, GARCH_T, GJR)  # the simple methods a model must not lose to on any series
FAMILY = "naive + family reader"  # the Bayes reader of the same window that knows the model family (scoring.family)


@dataclass(frozen=True)
class Holdout:
    """Target days [start, n) of each series, pooled: windows, last known and actual prices."""

    series: list[FeatureSeries]
    starts: list[int]
    windows: np.ndarray  # (N, T, F)
    last: np.ndarray  # (N,)
    actual: np.ndarray  # (N,)
    owner: np.ndarray  # (N,) index of the series each day belongs to

    @property
    def days(self) -> int:
        return len(self.actual)


def holdout_days(series: list[FeatureSeries], days: int, window: int) -> Holdout:
    """The newest `days` next-day targets of every series."""
    starts = [len(s) - days for s in series]
    parts = [make_feature_windows(s.values, window, start, len(s)) for s, start in zip(series, starts, strict=True)]
    windows = np.concatenate([x for x, _, _ in parts])
    actual = np.concatenate([y[:, 0] for _, y, _ in parts])
    owner = np.concatenate([np.full(len(y), i) for i, (_, y, _) in enumerate(parts)])
    return Holdout(series, starts, windows, windows[:, -1, 0], actual, owner)


@cache
def reference_fhs_table(window: int, levels: tuple[float, ...]) -> np.ndarray:
    """FHS's standardised quantiles: the bundled S&P 500 without its newest 500 days (its training years)."""
    return baselines.fhs_table(load_csv(DEFAULT_DATA).prices, window, levels)


def series_baselines(prices: np.ndarray, targets: np.ndarray, levels: tuple[float, ...], window: int) -> dict[str, Any]:
    """(N, Q) quantiles of every simple method on one series' target days, from prices before each."""
    return {
        GARCH_T: baselines.garch_family_quantiles(prices, targets, levels, "garch-t"),
        GJR: baselines.garch_family_quantiles(prices, targets, levels, "gjr-skewt"),
        FHS: baselines.fhs_window_quantiles(prices, targets, levels, window, reference_fhs_table(window, levels)),
        EWMA: baselines.ewma_gaussian_quantiles(prices, targets, levels),
    }


def baseline_quantiles(holdout: Holdout, levels: tuple[float, ...]) -> dict[str, np.ndarray]:
    """Every simple method on every series' holdout days, pooled in the holdout's order."""
    window = holdout.windows.shape[1]
    found = [
        series_baselines(s.prices, np.arange(start, len(s)), levels, window)
        for s, start in zip(holdout.series, holdout.starts, strict=True)
    ]
    return {name: np.concatenate([f[name] for f in found]) for name in BASELINES}


def score(holdout: Holdout, point: np.ndarray, quantiles: np.ndarray | None, levels: tuple[float, ...]) -> ScoreRow:
    """Point scores, and interval scores in % of price (with each day's pinball loss, for DM tests)."""
    found: ScoreRow = {**metrics.score(holdout.last, holdout.actual, point)}
    if quantiles is not None:
        found["intervals"] = metrics.interval_scores(holdout.actual, quantiles, levels, holdout.last)
        found["calibration"] = (holdout.actual[:, None] <= quantiles).mean(axis=0).tolist()  # per level
        found["pinball_by_day"] = metrics.relative_pinball_by_day(
            holdout.last, holdout.actual, quantiles, np.array(levels)
        )
    return found


def score_all(holdout: Holdout, models: dict[str, Forecaster], levels: tuple[float, ...]) -> ScoreTable:
    """Every model, naive and the interval baselines, scored on the same holdout days."""
    table: ScoreTable = {}
    for name, forecast in models.items():
        point, quantiles = forecast(holdout.windows)
        table[name] = score(holdout, point, quantiles, levels)
    table["naive"] = score(holdout, holdout.last, None, levels)
    for name, quantiles in baseline_quantiles(holdout, levels).items():
        table[name] = score(holdout, holdout.last, quantiles, levels)
    return table


def with_family_reader(table: ScoreTable, holdout: Holdout, levels: tuple[float, ...]) -> ScoreTable:
    """The table with the family reader's daily pinball on the data files' series (the strongest method that reads
    only the holdout's windows). The gate judges those series only, so the simulated paths' days, which would
    triple its cost, are NaN."""
    real = ~np.isin(holdout.owner, [i for i, s in enumerate(holdout.series) if s.source.startswith(SIMULATED)])
    quantiles = family.window_quantiles(holdout.windows[real, :, 0], levels)
    daily = np.full(holdout.days, np.nan)
    daily[real] = metrics.relative_pinball_by_day(holdout.last[real], holdout.actual[real], quantiles, np.array(levels))
    return {**table, FAMILY: {**metrics.score(holdout.last, holdout.actual, holdout.last), "pinball_by_day": daily}}


def per_series(table: ScoreTable, name: str, holdout: Holdout) -> list[dict[str, Any]]:
    """For each series: every interval row's pinball, the best simple method and the model's ratio to it, and
    DM tests (Newey-West, 5 lags) of the model against each of the strongest, Holm-adjusted across the data
    files' series (and, as a family of their own, across the simulated paths)."""
    found: list[dict[str, Any]] = []
    for i, s in enumerate(holdout.series):
        days = holdout.owner == i
        losses = {
            row: float(np.mean(table[row]["pinball_by_day"][days])) for row in table if "pinball_by_day" in table[row]
        }
        best = min(STRONGEST, key=losses.__getitem__)
        tests: dict[str, dict[str, float]] = {
            other: significance.diebold_mariano_hac(  # type: ignore[misc]
                table[name]["pinball_by_day"][days], table[other]["pinball_by_day"][days]
            )
            for other in STRONGEST
        }
        found.append(
            {
                "series": s.source,
                "simulated": s.source.startswith(SIMULATED),
                "model": name,
                "days": int(days.sum()),
                "pinball_pct": losses,
                "best_simple": best,
                "ratio_to_best": losses[name] / losses[best],
                "dm": tests,
            }
        )
    with_holm([r for r in found if not r["simulated"]])  # data files and simulated paths: a family each
    with_holm([r for r in found if r["simulated"]])
    return found


def with_holm(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with Holm-adjusted DM p-values across them, one family per baseline."""
    for other in STRONGEST:
        adjusted = significance.holm([r["dm"][other]["p_value"] for r in rows])
        for r, p in zip(rows, adjusted, strict=True):
            r["dm"][other]["p_holm"] = p
    return rows


def dm_pinball(table: ScoreTable, name: str, other: str) -> DMTest | None:
    """Diebold-Mariano test of two rows' daily pinball losses; negative statistic: `name` is better."""
    if "pinball_by_day" not in table[name] or "pinball_by_day" not in table.get(other, {}):
        return None
    return significance.diebold_mariano_losses(table[name]["pinball_by_day"], table[other]["pinball_by_day"])


def format_table(table: ScoreTable) -> str:
    """The holdout table as text: point and interval scores of every row."""
    header = f"{'':24}{'MAE':>10}{'80% cov.':>10}{'95% cov.':>10}{'Kupiec p 80/95':>16}{'pinball %':>11}"
    lines = [header]
    for name, row in table.items():
        iv = row.get("intervals") or {}
        cov = [iv.get(f"coverage_{lvl}") for lvl in ("80", "95")]
        cells = [f"{c['coverage']:10.3f}" if c else f"{'-':>10}" for c in cov]
        kupiec = f"{cov[0]['uc_p_value']:.2f}/{cov[1]['uc_p_value']:.2f}" if cov[0] and cov[1] else "-"
        pinball = f"{iv['pinball_pct']:11.4f}" if "pinball_pct" in iv else f"{'-':>11}"
        lines.append(f"{name:24}{row['mae']:10.3f}{''.join(cells)}{kupiec:>16}{pinball}")
    return "\n".join(lines)


def ratios_line(table: ScoreTable, name: str) -> str:
    """One line of the two ratios that matter: MAE to naive's, pinball loss to GARCH-t's."""
    line = f"MAE ratio {name}/naive: {table[name]['mae'] / table['naive']['mae']:.4f}"
    if "intervals" in table[name]:
        ratio = table[name]["intervals"]["pinball_pct"] / table[BASELINES[0]]["intervals"]["pinball_pct"]
        line += f"   pinball ratio {name}/GARCH(1,1)-t: {ratio:.4f}"
    return line


def format_per_series(rows: list[dict[str, Any]]) -> str:
    """Series by series: the model's pinball as a ratio to the best simple method, and the Holm-adjusted DM
    p-values against each of the strongest (+ the model is worse, - better)."""
    short = {other: other.removeprefix("naive + ") for other in STRONGEST}
    lines = [
        f"{'series':34}{'days':>6}  {'best simple method':22}{'ratio':>8}  "
        + "".join(f"{short[o]:>22}" for o in STRONGEST)
    ]
    for r in rows:
        cells = "".join(
            f"{('+' if t['statistic'] > 0 else '-') + format(t['p_holm'], '.3f'):>22}" for t in r["dm"].values()
        )
        lines.append(
            f"{r['series'][:33]:34}{r['days']:6d}  {short[r['best_simple']]:22}{r['ratio_to_best']:8.4f}  {cells}"
        )
    return "\n".join(lines)


def without_daily(table: ScoreTable) -> ScoreTable:
    """The table without per-day arrays, for JSON (model cards, history.jsonl)."""
    return {name: without_days(row) for name, row in table.items()}


def without_days(row: ScoreRow) -> ScoreRow:
    """A row without its per-day pinball losses."""
    kept = row.copy()
    kept.pop("pinball_by_day", None)
    return kept
