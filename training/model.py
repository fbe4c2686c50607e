"""The stacked LSTM/GRU with a monotone quantile head, and the in-graph normalisation (prices in, prices out)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch
from torch import nn

from training.config import CELLS, DEFAULT_QUANTILES, NORMALIZATIONS, LSTMConfig  # noqa: F401 (re-exported)

# How each input feature is made scale-free inside the graph (see WindowNormalizer).
PRICE_FEATURES = ("close", "open", "high", "low")
EWMA_LAMBDA = 0.94  # RiskMetrics' daily decay (J.P. Morgan/Reuters, RiskMetrics Technical Document, 1996)
SIGMA_FLOOR = 1e-4  # 0.01% a day: a flat window still gives finite, positive intervals
FEATURE_KINDS = {"volume": "volume", "hl_range": "level"}


def feature_kind(name: str) -> str:
    """'ratio' for prices (close, open, high, low, <extra>_close), 'volume', or 'level' (hl_range)."""
    if name in PRICE_FEATURES or name.endswith("_close"):
        return "ratio"
    if name in FEATURE_KINDS:
        return FEATURE_KINDS[name]
    raise ValueError(f"unknown feature {name!r}")


class StackedLSTM(nn.Module):
    """Recurrent layers over normalised steps; a head gives (B, horizon, quantiles), monotone by construction.

    With the default "residual" head the quantiles are a simple method plus a bounded correction: the base is
    a fixed table of standardised quantiles (filtered historical simulation, set from the training targets)
    scaled by a learned asymmetric volatility filter; the network's output, zero at initialisation, shifts
    the median and rescales each gap between neighbouring quantiles within fixed bounds. An untrained model
    is therefore the simple method itself, and training can only move away from it as far as the bounds
    allow. The "free" head is the earlier unconstrained one (any normalisation, e.g. minmax).
    """

    base: torch.Tensor

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        rnn_class = nn.LSTM if config.cell == "lstm" else nn.GRU
        self.rnn = rnn_class(
            input_size=config.features,
            hidden_size=config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.horizon, self.n_quantiles, self.median = (
            config.horizon,
            len(config.quantiles),
            config.median_index,
        )
        self.quantile_levels = tuple(config.quantiles)
        self.residual = config.head == "residual"
        width = self.n_quantiles + 1 if self.residual else self.n_quantiles  # residual: + one common scale
        self.head = nn.Linear(config.hidden, config.horizon * width)
        # (h, Q) standardised quantiles the residual head corrects; set_base() fits them to the training targets
        self.register_buffer("base", torch.tensor(normal_table(self.quantile_levels)).repeat(config.horizon, 1))
        self.vol = VolatilityFilter(config.window) if self.residual else None
        if self.residual:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (B, T, H); no h0/c0 given, so none is exposed in the export
        raw = self.head(out[:, -1, :]).reshape(x.shape[0], self.horizon, -1)  # (B, h, Q) or (B, h, Q + 1)
        if not self.residual:
            return monotone_quantiles(raw, self.median)
        assert self.vol is not None
        return residual_quantiles(raw, self.base, self.median, self.vol(x[:, 1:, 0]))

    def set_base(self, table: np.ndarray) -> None:
        """(h, Q) standardised quantiles of the training targets: what the residual head starts from."""
        self.base.copy_(torch.tensor(np.sort(table, axis=-1), dtype=torch.float32))


def monotone_quantiles(raw: torch.Tensor, median: int) -> torch.Tensor:
    """Median from raw[..., median]; the others are it -/+ cumulative softplus steps, so they never cross."""
    center = raw[..., median : median + 1]
    steps = nn.functional.softplus(raw)
    below = center - torch.flip(torch.cumsum(torch.flip(steps[..., :median], [-1]), -1), [-1])
    above = center + torch.cumsum(steps[..., median + 1 :], -1)
    return torch.cat([below, center, above], dim=-1)


MEDIAN_SHIFT = 0.25  # the residual head moves the median at most 0.25 sigma
SCALE_SHIFT = 1.0  # ... scales every quantile's distance from the median by exp(+-1) in common
GAP_SHIFT = 0.5  # ... and each gap between neighbouring quantiles by exp(+-0.5) more


def bounded(raw: torch.Tensor, limit: float) -> torch.Tensor:
    """raw squashed into (-limit, limit), with slope 1 at 0."""
    return limit * torch.tanh(raw / limit)


def residual_quantiles(raw: torch.Tensor, base: torch.Tensor, median: int, vol_ratio: torch.Tensor) -> torch.Tensor:
    """(B, h, Q + 1) raw outputs -> (B, h, Q) quantiles: the base table's median shifted, its gaps rescaled.

    raw[..., median] shifts the median, raw[..., -1] scales all gaps, the others scale one gap each; every
    gap stays positive, so quantiles never cross. vol_ratio (B, 1) is the volatility filter's sigma over the
    window's EWMA sigma. Zero raw output and a ratio of 1 give the base table exactly.
    """
    center = base[:, median] + bounded(raw[..., median], MEDIAN_SHIFT)  # (B, h)
    gap_raw = torch.cat([raw[..., :median], raw[..., median + 1 : -1]], dim=-1)  # (B, h, Q - 1)
    log_scale = bounded(raw[..., -1:], SCALE_SHIFT) + bounded(gap_raw, GAP_SHIFT)
    gaps = (base[:, 1:] - base[:, :-1]) * torch.exp(log_scale) * vol_ratio.unsqueeze(-1)  # (B, h, Q - 1)
    below = center.unsqueeze(-1) - torch.flip(torch.cumsum(torch.flip(gaps[..., :median], [-1]), -1), [-1])
    above = center.unsqueeze(-1) + torch.cumsum(gaps[..., median:], -1)
    return torch.cat([below, center.unsqueeze(-1), above], dim=-1)


def normal_table(levels: tuple[float, ...]) -> np.ndarray:
    """(Q,) standard normal quantiles: the base before set_base() gives the training targets' own."""
    from statistics import NormalDist

    return np.array([NormalDist().inv_cdf(q) for q in levels], dtype=np.float32)


# The filters the volatility mixture starts from: (persistence P, news share alpha + gamma/2, asymmetry
# gamma / (2 (alpha + gamma/2))): RiskMetrics-like, an equity GARCH, an index-like GJR with all of its news
# in falls (alpha 0, gamma 0.24: what `arch` fits on the S&P 500), a milder GJR, and a fast-reverting one.
FILTER_GRID = ((0.999, 0.06, 0.02), (0.98, 0.08, 0.02), (0.985, 0.12, 0.98), (0.985, 0.08, 0.5), (0.95, 0.10, 0.3))
FILTER_BURN_IN = 10  # returns each filter runs before its fit to the window is counted
MIN_VARIANCE_RATIO = 0.04  # a filter's sigma is at least 0.2 EWMA sigmas: a flat window keeps the floor's width
# Each filter is scored on the window by a Student t log-likelihood with 5 degrees of freedom: under a Gaussian
# score one crash day decides which filter wins, and daily returns have tails about that fat (nu 4-6 in GARCH-t
# fits of indices and stocks). The README's leave-one-asset-out notes give the measured difference.
SCORE_NU = 5.0


def logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


class VolatilityFilter(nn.Module):
    """Next-day volatility from a mixture of GJR-GARCH(1,1,1) recursions, each weighted by how well it
    forecast the window's own returns.

    Filter k: sigma2_{t+1} = (1 - P) v + (alpha + gamma 1[r_t < 0]) r_t^2 + beta sigma2_t, started at and
    targeting v, the window's variance level (P = alpha + gamma / 2 + beta). v is a scaled square of the mean
    absolute return: far steadier than the mean square under fat tails, where one crash day would set it.
    A filter is linear in sigma2, so every step's forecast is one matrix product and the whole mixture exports
    as a few ONNX ops. Each filter's Student t log-score (SCORE_NU) on the window's returns (after a burn-in)
    gives its weight through a softmax with a learned temperature and prior, so a window that behaves like an index
    with strong leverage leans on the asymmetric filter and a calm symmetric one on the others: the window
    picks its model, as a per-asset GARCH fit would over a longer history. It works on returns over the EWMA
    sigma, so it returns the ratio of its sigma to that one. All parameters are pooled over the training
    windows.
    """

    exponents: torch.Tensor
    past: torch.Tensor
    ages: torch.Tensor

    def __init__(self, window: int) -> None:
        super().__init__()
        n = window - 1  # returns in a window
        self.persistence_logit = nn.Parameter(torch.tensor([logit(g[0]) for g in FILTER_GRID]))
        self.news_logit = nn.Parameter(torch.tensor([logit(g[1]) for g in FILTER_GRID]))
        self.asymmetry_logit = nn.Parameter(torch.tensor([logit(g[2]) for g in FILTER_GRID]))
        self.log_temperature = nn.Parameter(torch.tensor(0.0))
        self.prior = nn.Parameter(torch.zeros(len(FILTER_GRID)))
        self.log_level_scale = nn.Parameter(torch.tensor(float(np.log(np.pi / 2))))  # (E|e|)^2 = 2/pi for a normal
        t, i = torch.arange(n + 1)[:, None], torch.arange(n)[None, :]
        self.register_buffer("exponents", (t - 1 - i).clamp(min=0).float())  # (n + 1, n): beta^(t-1-i)
        self.register_buffer("past", (i < t).float())  # return i drives the forecast for t only if i < t
        self.register_buffer("ages", t[:, 0].float())  # (n + 1,) steps since the start

    def coefficients(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(K,) persistence P, news share alpha + gamma / 2 (< P) and asymmetry of every filter."""
        persistence = torch.sigmoid(self.persistence_logit)
        return persistence, persistence * torch.sigmoid(self.news_logit), torch.sigmoid(self.asymmetry_logit)

    def describe(self) -> dict[str, object]:
        """Every filter's alpha, gamma, beta, and the mixture's temperature and prior, for the model card."""
        with torch.no_grad():
            persistence, news, asym = self.coefficients()
            return {
                "alpha": ((1 - asym) * news).tolist(),
                "gamma": (2 * asym * news).tolist(),
                "beta": (persistence - news).tolist(),
                "temperature": float(self.log_temperature.exp()),
                "level_scale": float(self.log_level_scale.exp()),
                "prior": self.prior.tolist(),
                "score": f"Student t, nu {SCORE_NU:g}",
            }

    def variances(self, z: torch.Tensor) -> torch.Tensor:
        """(B, n) standardised returns -> (B, K, n + 1) each filter's forecast of every step, the last one next."""
        persistence, news, asym = self.coefficients()
        beta = (persistence - news)[:, None, None]  # (K, 1, 1)
        squares = z * z
        level = (z.abs().mean(1, keepdim=True) ** 2 * self.log_level_scale.exp())[:, None, :]  # (B, 1, 1)
        falls = (z < 0).to(z.dtype)[:, None, :]  # (B, 1, n)
        impact = (news * (1 - asym))[None, :, None] + (2 * news * asym)[None, :, None] * falls  # (B, K, n)
        drive = (1 - persistence)[None, :, None] * level + impact * squares[:, None, :]  # (B, K, n)
        decay = beta**self.exponents * self.past  # (K, n + 1, n)
        start = beta[None, :, :, 0] ** self.ages * level  # (B, K, n + 1)
        return torch.clamp(torch.einsum("kti,bki->bkt", decay, drive) + start, min=MIN_VARIANCE_RATIO)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, n) returns over the EWMA sigma -> (B, 1) the mixture's sigma over the EWMA sigma."""
        v = self.variances(z)
        past, squares = v[..., FILTER_BURN_IN:-1], (z * z)[:, None, FILTER_BURN_IN:]
        # minus twice the t log-likelihood, up to a constant; log(1 + u) rather than log1p, which ONNX lacks
        fit = torch.log(past) + (SCORE_NU + 1) * torch.log(1 + squares / ((SCORE_NU - 2) * past))
        weights = torch.softmax(self.prior - 0.5 * self.log_temperature.exp() * fit.sum(-1), dim=1)  # (B, K)
        return torch.sqrt((weights * v[..., -1]).sum(1, keepdim=True))


class Normalizer(nn.Module, ABC):
    """Maps raw feature windows to network inputs, and network outputs back to prices of feature 0."""

    kind = "base"

    @abstractmethod
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, F) raw features -> (B, T, F) network input."""

    @abstractmethod
    def encode_target(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B, h) future prices -> (B, h) the values the quantiles are fitted to."""

    @abstractmethod
    def decode(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(B, h, Q) network output -> (B, h, Q) prices."""

    @abstractmethod
    def describe(self) -> dict[str, object]:
        """The parameters, for the model card."""


class WindowNormalizer(Normalizer):
    """Scale-invariant: prices as log(x_t / x_last)/s, volume as log(v_t / mean v)/s, levels as (x - m)/s.

    The network predicts log-returns of feature 0 relative to its last value, so multiplying every price
    feature by k multiplies every forecast and quantile by k.
    """

    scales: torch.Tensor
    means: torch.Tensor

    kind = "window"

    def __init__(self, kinds: list[str], scales: list[float], means: list[float]) -> None:
        super().__init__()
        self.kinds = list(kinds)
        self.register_buffer("scales", torch.tensor(scales, dtype=torch.float32))
        self.register_buffer("means", torch.tensor(means, dtype=torch.float32))

    @classmethod
    def fit(cls, train: np.ndarray, names: list[str]) -> WindowNormalizer:
        """Scales from the training period only: std of daily log-changes, or of the level itself."""
        kinds = [feature_kind(n) for n in names]
        scales, means = [], []
        for i, kind in enumerate(kinds):
            column = train[:, i]  # several series are joined with a NaN row: no return spans two of them
            if kind == "level":
                means.append(float(np.nanmean(column)))
                scales.append(float(max(np.nanstd(column), 1e-6)))
            else:
                means.append(0.0)
                scales.append(float(max(np.nanstd(np.diff(np.log(np.maximum(column, 1e-12)))), 1e-6)))
        return cls(kinds, scales, means)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        columns = []
        for i, kind in enumerate(self.kinds):
            col = x[:, :, i]  # (B, T)
            if kind == "ratio":
                col = torch.log(col / col[:, -1:])
            elif kind == "volume":
                col = torch.log(torch.clamp(col, min=1e-12) / torch.clamp(col.mean(1, keepdim=True), min=1e-12))
            else:
                col = col - self.means[i]
            columns.append(col / self.scales[i])
        return torch.stack(columns, dim=-1)

    def encode_target(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.log(target / x[:, -1:, 0]) / self.scales[0]

    def decode(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x[:, -1, 0].reshape(-1, 1, 1) * torch.exp(y * self.scales[0])

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "formula": "prices: log(x_t/x_last)/scale; volume: log(v_t/mean(v))/scale; levels: (x-mean)/scale",
            "feature_kinds": self.kinds,
            "scales": [float(s) for s in self.scales],
            "means": [float(m) for m in self.means],
        }


class MinMaxNormalizer(Normalizer):
    """The tutorial's global scaler on feature 0, fitted on training prices; breaks outside that range."""

    low: torch.Tensor
    span: torch.Tensor

    kind = "minmax"

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.register_buffer("low", torch.tensor(low, dtype=torch.float32))
        self.register_buffer("span", torch.tensor(max(high - low, 1e-6), dtype=torch.float32))

    @classmethod
    def fit(cls, train: np.ndarray, names: list[str]) -> MinMaxNormalizer:
        if len(names) != 1:
            raise ValueError("--normalize minmax supports a single price feature only")
        return cls(float(np.nanmin(train[:, 0])), float(np.nanmax(train[:, 0])))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.low) / self.span

    def encode_target(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (target - self.low) / self.span

    def decode(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return y * self.span + self.low

    def describe(self) -> dict[str, object]:
        low, span = float(self.low), float(self.span)
        return {"kind": self.kind, "min": low, "max": low + span, "formula": "(p-min)/(max-min)"}


class VolNormalizer(Normalizer):
    """Volatility-standardised: log-returns divided by the window's own EWMA sigma (RiskMetrics, lambda 0.94).

    The network sees standardised returns and predicts standardised quantiles of the next log-return, which
    are multiplied back by that sigma. Prices x k give forecasts x k; log-moves x k give log-space quantile
    offsets x k, exactly, whenever sigma is above the floor. Other features are made scale-free as in
    WindowNormalizer (price features by their own EWMA sigma).
    """

    scales: torch.Tensor
    means: torch.Tensor
    weights: torch.Tensor

    kind = "vol"

    def __init__(self, kinds: list[str], scales: list[float], means: list[float], window: int) -> None:
        super().__init__()
        if window < 2:
            raise ValueError(f"--normalize vol needs a window of at least 2 prices (one return), got {window}")
        self.kinds = list(kinds)
        self.register_buffer("scales", torch.tensor(scales, dtype=torch.float32))
        self.register_buffer("means", torch.tensor(means, dtype=torch.float32))
        weights = EWMA_LAMBDA ** np.arange(window - 2, -1, -1, dtype=np.float64)  # newest return weighs most
        self.register_buffer("weights", torch.tensor(weights / weights.sum(), dtype=torch.float32))

    @classmethod
    def fit(cls, train: np.ndarray, names: list[str], window: int) -> VolNormalizer:
        """Only volume and level features need training statistics; prices are standardised per window."""
        base = WindowNormalizer.fit(train, names)
        return cls(base.kinds, [float(s) for s in base.scales], [float(m) for m in base.means], window)

    def returns(self, prices: torch.Tensor) -> torch.Tensor:
        """(B, T) positive prices -> (B, T) daily log-returns, 0 for the first step."""
        r = torch.log(prices[:, 1:] / prices[:, :-1])
        return torch.cat([torch.zeros_like(r[:, :1]), r], dim=1)

    def sigma(self, prices: torch.Tensor) -> torch.Tensor:
        """(B, T) -> (B, 1) EWMA sigma of the window's log-returns, never below SIGMA_FLOOR."""
        r = self.returns(prices)[:, 1:]
        return torch.clamp(torch.sqrt((r * r * self.weights).sum(1, keepdim=True)), min=SIGMA_FLOOR)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        columns = []
        for i, kind in enumerate(self.kinds):
            col = x[:, :, i]  # (B, T)
            if kind == "ratio":
                col = self.returns(col) / self.sigma(col)
            elif kind == "volume":
                col = torch.log(torch.clamp(col, min=1e-12) / torch.clamp(col.mean(1, keepdim=True), min=1e-12))
                col = col / self.scales[i]
            else:
                col = (col - self.means[i]) / self.scales[i]
            columns.append(col)
        return torch.stack(columns, dim=-1)

    def encode_target(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.log(target / x[:, -1:, 0]) / self.sigma(x[:, :, 0])

    def decode(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        sigma = self.sigma(x[:, :, 0]).reshape(-1, 1, 1)
        return x[:, -1, 0].reshape(-1, 1, 1) * torch.exp(y * sigma)

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "formula": "prices: r_t / sigma, r_t = log(x_t/x_{t-1}), sigma = sqrt(sum w_t r_t^2) (EWMA, "
            f"lambda {EWMA_LAMBDA}, floor {SIGMA_FLOOR}); forecast = x_last * exp(sigma * z); volume and "
            "levels as in 'window'",
            "ewma_lambda": EWMA_LAMBDA,
            "sigma_floor": SIGMA_FLOOR,
            "window": len(self.weights) + 1,
            "feature_kinds": self.kinds,
            "scales": [float(s) for s in self.scales],
            "means": [float(m) for m in self.means],
        }


def fit_normalizer(kind: str, train: np.ndarray, names: list[str], window: int) -> Normalizer:
    """The normaliser of that kind, fitted on training-period values (N, F) only."""
    if kind == "vol":
        return VolNormalizer.fit(train, names, window)
    return WindowNormalizer.fit(train, names) if kind == "window" else MinMaxNormalizer.fit(train, names)


def normalizer_from_card(card: dict[str, Any]) -> Normalizer:
    """The normaliser a model card describes, rebuilt (for loading weights.pt)."""
    norm = card["normalization"]
    assert isinstance(norm, dict)
    if norm["kind"] == "minmax":
        return MinMaxNormalizer(norm["min"], norm["max"])
    if norm["kind"] == "vol":
        return VolNormalizer(norm["feature_kinds"], norm["scales"], norm["means"], int(card["window"]))
    return WindowNormalizer(norm["feature_kinds"], norm["scales"], norm["means"])


class PriceForecaster(nn.Module):
    """What is exported: raw windows in; the median forecast and the quantiles, in prices, out.

    Shapes: input (B, T) for one feature or (B, T, F); outputs forecast (B,) and quantiles (B, Q) for a
    one-day horizon, (B, h) and (B, h, Q) for h > 1 days.
    """

    interval_scale: torch.Tensor

    def __init__(self, normalizer: Normalizer, net: StackedLSTM, univariate: bool) -> None:
        super().__init__()
        self.normalizer, self.net, self.univariate = normalizer, net, univariate
        # Split-conformal factors on each quantile's distance from the median (set by calibrate()); ones = off.
        self.register_buffer("interval_scale", torch.ones(net.horizon, net.n_quantiles))

    def scaled(self, z: torch.Tensor) -> torch.Tensor:
        """(B, h, Q) network quantiles with each offset from the median scaled, re-sorted so none cross."""
        median = z[..., self.net.median : self.net.median + 1]
        return torch.sort(median + self.interval_scale * (z - median), dim=-1).values

    def quantile_prices(self, window: torch.Tensor) -> torch.Tensor:
        """(B, T[, F]) -> (B, h, Q) price quantiles."""
        x = window.unsqueeze(-1) if self.univariate else window  # (B, T, F)
        return self.normalizer.decode(x, self.scaled(self.net(self.normalizer.encode(x))))

    def forward(self, window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q = self.quantile_prices(window)  # (B, h, Q)
        point = q[..., self.net.median]  # (B, h)
        if self.net.horizon == 1:
            return point[:, 0], q[:, 0, :]
        return point, q
