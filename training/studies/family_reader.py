"""What a reader that knows only the model family reaches on every series of the leave-one-asset-out table:
GJR-GARCH with skewed-t innovations over the posted price window (60 by default, as the service's), every parameter
integrated out by Bayes' rule.

The window-limit readers know a simulated asset's own parameters; this one knows none. Its prior spans the
persistence, the news share, the long-run and starting variance, and three asset types (a symmetric GARCH-t, a
mild GJR, an index-like GJR whose news all come from falls, each with its own skew). The types are the trade-off a
pooled model faces: how much prior weight an asset of unknown kind gets on leverage. Each prior is scored the way
reports/loo.md scores the model (same days, simple methods, Holm adjustment), so its verdicts say whether any
such reader of that many prices passes the table, not whether a network does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from arch.univariate import SkewStudent

from training.core.config import DEFAULT_QUANTILES, TrainConfig
from training.core.data import FeatureSeries, load_training_data
from training.core.synthetic import held_out_assets
from training.scoring import baselines
from training.studies import loo, loo_report, window_posterior

WINDOW = 60


@dataclass(frozen=True)
class Support:
    """The prior's support within a type, every combination one component: persistence and news share
    (alpha + gamma / 2) over what equity and commodity GARCH fits give, long-run daily volatility log-uniform over
    0.2%-8%, starting variance 0.35-2.9 times it."""

    persistences: tuple[float, ...] = (0.95, 0.97, 0.985, 0.995)
    news_shares: tuple[float, ...] = (0.04, 0.08, 0.12)
    level_vols: tuple[float, ...] = tuple(float(v) for v in np.exp(np.linspace(np.log(0.002), np.log(0.08), 13)))
    start_ratios: tuple[float, ...] = (0.35, 1.0, 2.9)


SUPPORT = Support()
NU = 5.0  # the innovations' degrees of freedom: what GARCH-t fits of indices and stocks give (4-6)
# Asset types: (the share of the news that comes from falls, Hansen's skew lambda)
TYPES = ((0.0, 0.0), (0.5, -0.1), (1.0, -0.2))
DIST = SkewStudent()  # lambda 0 is the standardised Student t
TYPE_NAMES = ("symmetric GARCH-t", "mild GJR", "index-like GJR")
PRIORS = {
    "even": (1 / 3, 1 / 3, 1 / 3),
    "leaning symmetric": (2 / 3, 1 / 6, 1 / 6),
    "leaning index-like": (1 / 6, 1 / 6, 2 / 3),
}


def type_grid(share: float, support: Support = SUPPORT) -> tuple[window_posterior.Grid, np.ndarray]:
    """One type's components (every persistence, news share, level and start) and each one's persistence."""
    persistence, news, level, start = (
        a.ravel()
        for a in np.meshgrid(
            support.persistences,
            support.news_shares,
            np.square(support.level_vols),
            support.start_ratios,
            indexing="ij",
        )
    )
    return window_posterior.Grid.of(level, start, np.full_like(level, share), news), persistence


@dataclass(frozen=True)
class TypeFit:
    """One asset type's components after reading the windows: its innovation shape, (N, G) log-likelihoods and
    next-day variances."""

    shape: np.ndarray
    loglik: np.ndarray
    variance: np.ndarray


def fit_types(returns: np.ndarray, support: Support = SUPPORT) -> list[TypeFit]:
    """(N, T) window log-returns -> every type's components' likelihood of them, in TYPES order."""
    fits = []
    for share, skew in TYPES:
        grid, persistence = type_grid(share, support)
        shape = np.array([NU, skew])
        fits.append(TypeFit(shape, *window_posterior.recursion_likelihood(returns, grid, persistence, DIST, shape)))
    return fits


def type_weights(fits: list[TypeFit], prior: tuple[float, ...]) -> list[np.ndarray]:
    """Each type's (N, G) posterior weights, the prior split evenly over a type's components."""
    with np.errstate(divide="ignore"):  # a type the prior rules out gets log 0 = -inf: weight 0
        log_prior = np.concatenate(
            [np.full(f.loglik.shape[1], np.log(p / f.loglik.shape[1])) for p, f in zip(prior, fits, strict=True)]
        )
    joint = window_posterior.posterior(np.concatenate([f.loglik for f in fits], axis=1), log_prior)
    return np.split(joint, np.cumsum([f.loglik.shape[1] for f in fits])[:-1], axis=1)


def predictive_quantiles(
    returns: np.ndarray, levels: tuple[float, ...], priors: Mapping[str, tuple[float, ...]], support: Support = SUPPORT
) -> dict[str, np.ndarray]:
    """(N, T) window log-returns -> each prior's (N, Q) next-day log-return quantiles (one likelihood for all)."""
    fits = fit_types(returns, support)
    out = {}
    for name, prior in priors.items():
        weights = type_weights(fits, prior)
        parts = [(DIST, f.shape, w, f.variance) for w, f in zip(weights, fits, strict=True)]
        out[name] = window_posterior.shaped_mixture_quantiles(parts, levels)
    return out


def reader_prices(
    series: FeatureSeries, targets: np.ndarray, levels: tuple[float, ...], window: int = WINDOW, prior: str = "even"
) -> np.ndarray:
    """(N, Q) next-day price quantiles of the reader of `window` prices (one prior over the types) on target days."""
    returns = np.diff(np.log(baselines.price_windows(series.prices, targets, window)), axis=1)
    found = predictive_quantiles(returns, levels, {prior: PRIORS[prior]})[prior]
    return series.prices[targets - 1][:, None] * np.exp(found)


def series_rows(
    series: FeatureSeries, cache: Path, support: Support = SUPPORT, window: int = WINDOW
) -> dict[str, dict[str, Any]]:
    """Each prior's row on one series, as reports/loo.md scores the model (before the Holm adjustment)."""
    levels = DEFAULT_QUANTILES
    targets = loo.scored_targets(series)
    prices = series.prices
    returns = np.diff(np.log(baselines.price_windows(prices, targets, window)), axis=1)
    simple = loo.baseline_forecasts(series, levels, window, cache)
    found = predictive_quantiles(returns, levels, PRIORS, support)
    last = prices[targets - 1][:, None]
    return {name: loo.series_row(series, {"model": last * np.exp(q), **simple}, levels) for name, q in found.items()}


def write(out: Path, by_prior: dict[str, list[dict[str, Any]]], window: int = WINDOW) -> Path:
    """reports/family_reader.md (family_reader_w<window>.md for another window): a table and verdicts per prior."""
    types = ", ".join(f"{n} (asymmetry {a:g}, skew {s:g})" for n, (a, s) in zip(TYPE_NAMES, TYPES, strict=True))
    text = [
        "# What a reader that knows only the model family reaches on the leave-one-asset-out table",
        "",
        "Generated by `python -m training family-reader`. Every series of reports/loo.md, on the same days and "
        f"against the same simple methods, forecast by a Bayes reader of the posted {window}-price window that knows "
        "the model family and nothing of the asset: GJR-GARCH(1,1,1) with Hansen's skewed t innovations "
        f"(nu {NU:g}), the prior over persistence {SUPPORT.persistences}, news share {SUPPORT.news_shares}, "
        "long-run daily volatility 0.2%-8% (13 points, log-uniform), starting variance 0.35-2.9 times it, and three "
        "asset types: "
        f"{types}. Within a type the prior is even; across types it is each section's. The predictive is the "
        "posterior mixture's quantiles. Ratios are the reader's pinball over each method's; p is Diebold-Mariano "
        "(Newey-West, 5 lags), Holm-adjusted across the series as in reports/loo.md; bold where p < 0.05. No "
        "conformal step: coverage is the reader's own."
        + ("" if window == WINDOW else f" FHS reads the same {window} prices (as the ablation's window row)."),
        "",
    ]
    for name, rows in by_prior.items():
        weights = ", ".join(f"{p:.2f}" for p in PRIORS[name])
        text += [f"## Prior {name} ({weights})", "", *loo_report.summary_table(rows), ""]
        text += [*loo_report.verdict_lines(loo.verdicts(rows)), ""]
    out.mkdir(parents=True, exist_ok=True)
    path = out / ("family_reader.md" if window == WINDOW else f"family_reader_w{window}.md")
    path.write_text("\n".join(text))
    return path


def run_family_reader(out: Path, window: int = WINDOW, config: TrainConfig | None = None) -> list[str]:
    """Every series of the leave-one-asset-out table under every prior; writes <out>/family_reader.md."""
    if not 2 <= window <= loo.LONGEST_WINDOW:
        raise ValueError(f"--window {window}: the table's days leave room for 2 to {loo.LONGEST_WINDOW} prices")
    config = config or TrainConfig()
    series = [*load_training_data(config), *held_out_assets()]
    per_series = [series_rows(s, out / ".cache", window=window) for s in series]
    by_prior = {name: [rows[name] for rows in per_series] for name in PRIORS}
    lines = []
    for name, rows in by_prior.items():
        loo.add_holm(rows)
        lines += [f"prior {name}:", *loo_report.verdict_lines(loo.verdicts(rows))]
    write(out, by_prior, window)
    return lines
