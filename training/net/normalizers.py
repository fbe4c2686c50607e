"""The in-graph normalisation: raw feature windows to network inputs and the network's quantiles back to prices."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch
from torch import nn

from training.core.config import CELLS, DEFAULT_QUANTILES, NORMALIZATIONS, LSTMConfig  # noqa: F401 (re-exported)

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

    kind = "vol"

    def __init__(self, kinds: list[str], scales: list[float], means: list[float], window: int) -> None:
        super().__init__()
        if window < 2:
            raise ValueError(f"--normalize vol needs a window of at least 2 prices (one return), got {window}")
        self.kinds = list(kinds)
        self.register_buffer("scales", torch.tensor(scales, dtype=torch.float32))
        self.register_buffer("means", torch.tensor(means, dtype=torch.float32))
        self.window = window

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
        """(B, T) -> (B, 1) EWMA sigma of all the window's log-returns, never below SIGMA_FLOOR.

        The weights lambda^age, newest return age 0, are made from the window's own length in the graph, so
        one graph reads windows of any length; they sum to one over the returns posted.
        """
        r = self.returns(prices)[:, 1:]
        steps = torch.ones_like(r[:1])
        weights = EWMA_LAMBDA ** (steps.sum(1, keepdim=True) - torch.cumsum(steps, 1))  # (1, n): age n-1 .. 0
        weighted = (r * r * weights).sum(1, keepdim=True) / weights.sum(1, keepdim=True)
        return torch.clamp(torch.sqrt(weighted), min=SIGMA_FLOOR)

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
            "window": self.window,
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
