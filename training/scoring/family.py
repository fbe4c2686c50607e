"""The family reader: a Bayes reader of the posted price window that knows the model family and nothing of the
asset (GJR-GARCH with skewed-t innovations, every parameter integrated out), the strongest method that reads only
the prices the model reads.

Its prior spans the persistence, the news share, the long-run and starting variance, and three asset types (a
symmetric GARCH-t, a mild GJR, an index-like GJR whose news all come from falls, each with its own skew). The
types are the trade-off a pooled model faces: how much prior weight an asset of unknown kind gets on leverage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from arch.univariate import SkewStudent

from training.scoring import window_posterior


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


def window_quantiles(windows: np.ndarray, levels: tuple[float, ...], prior: str = "even") -> np.ndarray:
    """(N, T) price windows -> (N, Q) next-day price quantiles of the reader with one prior over the types."""
    returns = np.diff(np.log(windows), axis=1)
    found = predictive_quantiles(returns, levels, {prior: PRIORS[prior]})[prior]
    return windows[:, -1:] * np.exp(found)
