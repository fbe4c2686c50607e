"""The stacked LSTM/GRU with its quantile head, and PriceForecaster: the module exported, prices in, prices out."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from training.core.config import CELLS, DEFAULT_QUANTILES, NORMALIZATIONS, LSTMConfig  # noqa: F401 (re-exported)
from training.net.filters import FILTER_BURN_IN, VolatilityFilter
from training.net.normalizers import Normalizer
from training.net.window_table import WindowTable


class StackedLSTM(nn.Module):
    """Recurrent layers over the newest normalised steps; a head gives (B, horizon, quantiles), monotone.

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
        # reads 0, the base alone, has no recurrent layer and no head: its weights hold nothing it does not use
        self.rnn = (
            rnn_class(
                input_size=config.features,
                hidden_size=config.hidden,
                num_layers=config.layers,
                dropout=config.dropout if config.layers > 1 else 0.0,
                batch_first=True,
            )
            if config.reads
            else None
        )
        self.horizon, self.n_quantiles, self.median = (
            config.horizon,
            len(config.quantiles),
            config.median_index,
        )
        self.quantile_levels = tuple(config.quantiles)
        self.residual = config.head == "residual"
        width = self.n_quantiles + 1 if self.residual else self.n_quantiles  # residual: + one common scale
        self.head = nn.Linear(config.hidden, config.horizon * width) if config.reads else None
        # (h, Q) standardised quantiles the residual head corrects; set_base() fits them to the training targets
        self.register_buffer("base", torch.tensor(normal_table(self.quantile_levels)).repeat(config.horizon, 1))
        self.reads = config.reads
        self.vol = VolatilityFilter(config.max_window) if self.residual else None
        # one-day models only: the window's returns say nothing direct of a multi-day return's shape
        own_table = self.residual and self.horizon == 1 and config.window_table
        self.table = WindowTable(self.quantile_levels, self.median) if own_table else None
        self.fades = config.network_fades and self.table is not None
        if self.residual and self.head is not None:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = self.correction(x)
        if not self.residual:
            return monotone_quantiles(raw, self.median)
        assert self.vol is not None
        z = x[:, 1:, 0]
        if self.table is None:  # no per-step sigmas to compute (the export drops them, training would not)
            return residual_quantiles(raw, self.base, self.median, self.vol(z))
        ratio, past = self.vol.mixture(z)
        u = z[:, FILTER_BURN_IN:] / past
        if self.fades:  # the network's pooled correction weighs k returns against the window's m, as the table does
            raw = raw * (1 - self.table.weight(u)).unsqueeze(-1)
        return residual_quantiles(raw, self.table(u, self.base), self.median, ratio)

    def correction(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, F) -> the head's raw output (B, h, Q) or (B, h, Q + 1); zero without a network (reads 0)."""
        if self.rnn is None or self.head is None:  # the base alone: the export has no recurrent layer at all
            return torch.zeros_like(x[:, :1, :1]).expand(x.shape[0], self.horizon, self.n_quantiles + 1)
        # the newest `reads` steps only (all of a shorter window); no h0/c0, so none is exposed in the export
        out, _ = self.rnn(x[:, -self.reads :])  # (B, min(T, reads), H)
        return self.head(out[:, -1, :]).reshape(x.shape[0], self.horizon, -1)

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
    """(B, h, Q + 1) raw outputs, (h, Q) or (B, h, Q) base table -> (B, h, Q) quantiles: the base table's median
    shifted, its gaps rescaled.

    raw[..., median] shifts the median, raw[..., -1] scales all gaps, the others scale one gap each; every
    gap stays positive, so quantiles never cross. vol_ratio (B, 1) is the volatility filter's sigma over the
    window's EWMA sigma. Zero raw output and a ratio of 1 give the base table exactly.
    """
    center = base[..., median] + bounded(raw[..., median], MEDIAN_SHIFT)  # (B, h)
    gap_raw = torch.cat([raw[..., :median], raw[..., median + 1 : -1]], dim=-1)  # (B, h, Q - 1)
    log_scale = bounded(raw[..., -1:], SCALE_SHIFT) + bounded(gap_raw, GAP_SHIFT)
    gaps = (base[..., 1:] - base[..., :-1]) * torch.exp(log_scale) * vol_ratio.unsqueeze(-1)  # (B, h, Q - 1)
    below = center.unsqueeze(-1) - torch.flip(torch.cumsum(torch.flip(gaps[..., :median], [-1]), -1), [-1])
    above = center.unsqueeze(-1) + torch.cumsum(gaps[..., median:], -1)
    return torch.cat([below, center.unsqueeze(-1), above], dim=-1)


def normal_table(levels: tuple[float, ...]) -> np.ndarray:
    """(Q,) standard normal quantiles: the base before set_base() gives the training targets' own."""
    from statistics import NormalDist

    return np.array([NormalDist().inv_cdf(q) for q in levels], dtype=np.float32)


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
