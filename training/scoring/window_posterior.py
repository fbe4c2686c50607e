"""A known GJR model's next-day quantiles from one price window, with what the window does not pin down (the
long-run variance, the starting variance, optionally the leverage) integrated out on a grid by Bayes' rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from arch.univariate import SkewStudent, StudentsT
from arch.univariate.distribution import Distribution

from training.core.synthetic import SimulatedAsset

# The prior: log-uniform long-run daily volatility over 0.2%-8% (wider than any asset the project trains or is
# scored on), log-uniform starting variance 1/4-4 times that level, and, where the leverage is unknown, the
# asset's news share split over no, half and all-in-falls asymmetry (GARCH-t to an index-like GJR), evenly or
# leaning to the symmetric end.
LEVEL_VOLS = tuple(float(v) for v in np.exp(np.linspace(np.log(0.002), np.log(0.08), 25)))
START_RATIOS = tuple(float(r) for r in np.exp(np.linspace(np.log(0.25), np.log(4.0), 5)))
ASYMMETRIES = (0.0, 0.5, 1.0)
LEVERAGE_PRIORS = {"even": (1 / 3, 1 / 3, 1 / 3), "leaning symmetric": (2 / 3, 1 / 6, 1 / 6)}
BISECTIONS = 60  # halvings of the bracket each quantile is solved in: far below a basis point of price


@dataclass(frozen=True)
class Grid:
    """The prior's support, one entry per component (G,): every combination of level, start and recursion."""

    level: np.ndarray  # long-run variance
    start: np.ndarray  # the variance the recursion starts from
    share: np.ndarray  # the share of the news that comes from falls: alpha = news (1 - share), gamma = 2 news share
    alpha: np.ndarray
    gamma: np.ndarray

    @classmethod
    def of(cls, level: np.ndarray, start_ratio: np.ndarray, share: np.ndarray, news: np.ndarray | float) -> Grid:
        """Components from their long-run variance, start over it, share of news from falls and news share."""
        alpha, gamma = news * (1 - share), 2 * news * share
        return cls(level=level, start=level * start_ratio, share=share, alpha=alpha, gamma=gamma)


def grid(
    asset: SimulatedAsset,
    leverage_known: bool,
    vols: tuple[float, ...] = LEVEL_VOLS,
    starts: tuple[float, ...] = START_RATIOS,
) -> Grid:
    """The asset's persistence and news share at every level and start; its own asymmetry, or all of ASYMMETRIES."""
    news = asset.alpha + asset.gamma / 2
    shares = (asset.gamma / (2 * news),) if leverage_known else ASYMMETRIES
    level, start, share = (a.ravel() for a in np.meshgrid(np.square(vols), starts, shares, indexing="ij"))
    return Grid.of(level, start, share, news)


def log_prior(support: Grid, leverage: str | None) -> np.ndarray:
    """(G,) log prior weights: even over levels and starts; over asymmetries as LEVERAGE_PRIORS[leverage] says
    (None: the grid holds the asset's own asymmetry only)."""
    if leverage is None:
        return np.zeros(len(support.level))
    by_share = dict(zip(ASYMMETRIES, LEVERAGE_PRIORS[leverage], strict=True))
    return np.log([by_share[float(s)] for s in support.share])


def innovation(asset: SimulatedAsset) -> tuple[Distribution, np.ndarray]:
    """The asset's standardised innovation distribution (Hansen's skewed t, or Student t) and its parameters."""
    if asset.skew:
        return SkewStudent(), np.array([asset.nu, asset.skew])
    return StudentsT(), np.array([asset.nu])


def likelihood(asset: SimulatedAsset, returns: np.ndarray, support: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(N, T) daily log-returns -> (N, G) each component's log-likelihood of them and its next-day variance."""
    dist, shape = innovation(asset)
    surprise = returns - asset.drift * asset.daily_vol
    return recursion_likelihood(surprise, support, np.full(len(support.level), asset.persistence), dist, shape)


def recursion_likelihood(
    surprise: np.ndarray, support: Grid, persistence: np.ndarray, dist: Distribution, shape: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(N, T) returns less their mean -> (N, G) each GJR component's log-likelihood of them under the innovation
    `dist` with parameters `shape`, and its next-day variance; persistence (G,) per component."""
    beta = persistence - support.alpha - support.gamma / 2  # (G,)
    variance = np.broadcast_to(support.start, (len(surprise), len(support.level))).copy()
    loglik = np.zeros_like(variance)
    for t in range(surprise.shape[1]):
        u = np.broadcast_to(surprise[:, t : t + 1], variance.shape)
        step = dist.loglikelihood(shape, u.ravel(), variance.ravel(), individual=True)
        loglik += np.asarray(step).reshape(variance.shape)
        news = support.alpha + support.gamma * (u < 0)
        variance = (1 - persistence) * support.level + news * u * u + beta * variance
    return loglik, variance


def posterior(loglik: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """(N, G) log-likelihoods and (G,) log prior -> (N, G) posterior weights."""
    joint = loglik + prior
    weights = np.exp(joint - joint.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def mixture_quantiles(
    asset: SimulatedAsset, weights: np.ndarray, variance: np.ndarray, levels: tuple[float, ...]
) -> np.ndarray:
    """(N, Q) quantiles of the log-return mixture sum_g w_g * sigma_g * e, solved by bisection on its CDF."""
    dist, shape = innovation(asset)
    return shaped_mixture_quantiles([(dist, shape, weights, variance)], levels)


Part = tuple[Distribution, np.ndarray, np.ndarray, np.ndarray]  # innovation, its parameters, (N, G) weights, variances


def shaped_mixture_quantiles(parts: Sequence[Part], levels: tuple[float, ...]) -> np.ndarray:
    """(N, Q) quantiles of a mixture whose components come in parts, each with its own innovation shape: the
    root of sum over parts and components of w * F(x / sigma), by bisection."""
    tables = [cdf_table(dist, shape) for dist, shape, _, _ in parts]
    sigmas = [np.sqrt(variance) for _, _, _, variance in parts]
    out = np.empty((len(parts[0][2]), len(levels)))
    for j, q in enumerate(levels):
        own = [np.asarray(dist.ppf(np.array([q]), shape))[0] for dist, shape, _, _ in parts]
        inner = np.concatenate([x * s for x, s in zip(own, sigmas, strict=True)], axis=1)  # the mixture's lies between
        low, high = inner.min(axis=1), inner.max(axis=1)
        for _ in range(BISECTIONS):
            mid = (low + high) / 2
            cdf = sum(
                (w * table.at(mid[:, None] / s)).sum(axis=1)
                for (_, _, w, _), s, table in zip(parts, sigmas, tables, strict=True)
            )
            below = cdf < q
            low, high = np.where(below, mid, low), np.where(below, high, mid)
        out[:, j] = (low + high) / 2
    return out


@dataclass(frozen=True)
class CdfTable:
    """An innovation's CDF on an even grid of z, read by linear interpolation: np.interp's values without its
    binary search, which made the bisection 25 times slower."""

    values: np.ndarray
    slopes: np.ndarray  # values[i + 1] - values[i]

    LOW, HIGH, POINTS = -60.0, 60.0, 240_001

    def at(self, x: np.ndarray) -> np.ndarray:
        """F(x), the end values beyond the grid (as np.interp)."""
        place = np.clip((x - self.LOW) * ((self.POINTS - 1) / (self.HIGH - self.LOW)), 0.0, self.POINTS - 1.0)
        i = np.minimum(place.astype(np.intp), self.POINTS - 2)
        return self.values[i] + (place - i) * self.slopes[i]


_TABLES: dict[tuple[str, tuple[float, ...]], CdfTable] = {}


def cdf_table(dist: Distribution, shape: np.ndarray) -> CdfTable:
    """The innovation's CDF table, computed once per distribution and shape (half a second each)."""
    key = (type(dist).__name__, tuple(np.asarray(shape, dtype=float).ravel().tolist()))
    if key not in _TABLES:
        values = np.asarray(dist.cdf(np.linspace(CdfTable.LOW, CdfTable.HIGH, CdfTable.POINTS), shape), dtype=float)
        _TABLES[key] = CdfTable(values, np.diff(values))
    return _TABLES[key]


def predictive_quantiles(
    asset: SimulatedAsset, returns: np.ndarray, levels: tuple[float, ...], readers: dict[str, str | None]
) -> dict[str, np.ndarray]:
    """(N, T) window returns -> each reader's (N, Q) next-day log-return quantiles. A reader is named by its
    leverage prior (None: the asset's own leverage known); readers of one grid share its likelihood."""
    fitted: dict[bool, tuple[Grid, np.ndarray, np.ndarray]] = {}
    out = {}
    for name, leverage in readers.items():
        known = leverage is None
        if known not in fitted:
            support = grid(asset, known)
            fitted[known] = (support, *likelihood(asset, returns, support))
        support, loglik, variance = fitted[known]
        out[name] = mixture_quantiles(asset, posterior(loglik, log_prior(support, leverage)), variance, levels)
    return out
