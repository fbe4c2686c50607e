"""The newest days of every series, held out: a model scored next to naive, GARCH(1,1)-t and EWMA on them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from training import baselines, metrics
from training.data import FeatureSeries, make_feature_windows
from training.tables import DMTest, ScoreRow, ScoreTable

# (N, T, F) windows -> (N,) next-day point forecasts and (N, Q) quantiles
Forecaster = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]
BASELINES = ("naive + GARCH(1,1)-t", "naive + EWMA Gaussian")


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


def baseline_quantiles(holdout: Holdout, levels: tuple[float, ...]) -> dict[str, np.ndarray]:
    """GARCH(1,1)-t fitted on each series before its holdout, and RiskMetrics EWMA, on the same days."""
    garch, ewma = [], []
    for s, start in zip(holdout.series, holdout.starts, strict=True):
        targets = np.arange(start, len(s))
        garch.append(baselines.garch_t_quantiles(s.prices, targets, levels, [start]))
        ewma.append(baselines.ewma_gaussian_quantiles(s.prices, targets, levels))
    return {BASELINES[0]: np.concatenate(garch), BASELINES[1]: np.concatenate(ewma)}


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


def gate(table: ScoreTable, name: str) -> list[str]:
    """The quality gate for one scored model: MAE vs naive, Kupiec coverage, pinball vs GARCH-t."""
    row = table[name]
    problems = metrics.gate_failures(row, table["naive"])
    if "intervals" in row:
        problems += metrics.interval_gate_failures(row["intervals"], table[BASELINES[0]]["intervals"])
    return problems


def dm_pinball(table: ScoreTable, name: str, other: str) -> DMTest | None:
    """Diebold-Mariano test of two rows' daily pinball losses; negative statistic: `name` is better."""
    if "pinball_by_day" not in table[name] or "pinball_by_day" not in table.get(other, {}):
        return None
    return metrics.diebold_mariano_losses(table[name]["pinball_by_day"], table[other]["pinball_by_day"])


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


def without_daily(table: ScoreTable) -> ScoreTable:
    """The table without per-day arrays, for JSON (model cards, history.jsonl)."""
    return {name: without_days(row) for name, row in table.items()}


def without_days(row: ScoreRow) -> ScoreRow:
    """A row without its per-day pinball losses."""
    kept = row.copy()
    kept.pop("pinball_by_day", None)
    return kept
