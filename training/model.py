"""The stacked LSTM/GRU and the in-graph normalisation that makes the exported model take and give prices."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

NORMALIZATIONS = ("window", "minmax")
CELLS = ("lstm", "gru")


@dataclass
class LSTMConfig:
    """Shape of the network; the defaults are the design's 4 x 50 LSTM over 60 steps."""

    window: int = 60
    cell: str = "lstm"
    layers: int = 4
    hidden: int = 50
    dropout: float = 0.2


class StackedLSTM(nn.Module):
    """A stack of recurrent layers reading normalised steps, with a linear head on the last step."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        rnn_class = nn.LSTM if config.cell == "lstm" else nn.GRU
        self.rnn = rnn_class(
            input_size=1,
            hidden_size=config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.head = nn.Linear(config.hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (B, T, H); no h0/c0 given, so none is exposed in the export
        return self.head(out[:, -1, :]).squeeze(-1)  # (B,)


class Normalizer(nn.Module, ABC):
    """Maps raw price windows to network inputs and network outputs back to prices."""

    kind = "base"

    @abstractmethod
    def encode(self, prices: torch.Tensor) -> torch.Tensor:
        """(B, T) prices -> (B, T, 1) network input."""

    @abstractmethod
    def encode_target(self, prices: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B,) next-day prices -> (B,) the value the network is trained to output."""

    @abstractmethod
    def decode(self, prices: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(B,) network output -> (B,) price forecast."""

    @abstractmethod
    def describe(self) -> dict[str, object]:
        """The parameters, for the model card."""


class WindowNormalizer(Normalizer):
    """Scale-invariant: each step as log(p_t / p_last) / scale; the network predicts the next log-return."""

    kind = "window"

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))

    @classmethod
    def fit(cls, train_prices: np.ndarray) -> WindowNormalizer:
        """scale = standard deviation of the training period's daily log-returns."""
        returns = np.diff(np.log(train_prices))
        return cls(float(max(returns.std(), 1e-6)))

    def encode(self, prices: torch.Tensor) -> torch.Tensor:
        last = prices[:, -1:]  # (B, 1)
        return (torch.log(prices / last) / self.scale).unsqueeze(-1)

    def encode_target(self, prices: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.log(target / prices[:, -1]) / self.scale

    def decode(self, prices: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return prices[:, -1] * torch.exp(y * self.scale)

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "scale": float(self.scale), "formula": "log(p_t/p_last)/scale"}


class MinMaxNormalizer(Normalizer):
    """The tutorial's global scaler fitted on training prices; breaks when prices leave that range."""

    kind = "minmax"

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.register_buffer("low", torch.tensor(low, dtype=torch.float32))
        self.register_buffer("span", torch.tensor(max(high - low, 1e-6), dtype=torch.float32))

    @classmethod
    def fit(cls, train_prices: np.ndarray) -> MinMaxNormalizer:
        return cls(float(train_prices.min()), float(train_prices.max()))

    def encode(self, prices: torch.Tensor) -> torch.Tensor:
        return ((prices - self.low) / self.span).unsqueeze(-1)

    def encode_target(self, prices: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (target - self.low) / self.span

    def decode(self, prices: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return y * self.span + self.low

    def describe(self) -> dict[str, object]:
        low, span = float(self.low), float(self.span)
        return {"kind": self.kind, "min": low, "max": low + span, "formula": "(p-min)/(max-min)"}


def fit_normalizer(kind: str, train_prices: np.ndarray) -> Normalizer:
    """The normaliser of that kind, fitted on training-period prices only."""
    return WindowNormalizer.fit(train_prices) if kind == "window" else MinMaxNormalizer.fit(train_prices)


class PriceForecaster(nn.Module):
    """What is exported: raw price windows (B, T) in, next-day price forecasts (B,) out."""

    def __init__(self, normalizer: Normalizer, net: StackedLSTM) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.net = net

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        y = self.net(self.normalizer.encode(window))  # (B,)
        return self.normalizer.decode(window, y)
