"""The posted window's own table of standardised returns, blended into the pooled table by how many it holds."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

PRIOR_RETURNS = 500.0  # the pooled table counts as this many returns at the start of training (learned after)


def empirical_quantiles(u: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """(B, m) samples, (Q,) levels -> (B, Q) their quantiles, linear between order statistics (numpy's default).

    The count m is read from the tensor, not the Python shape, so the exported graph keeps the length dynamic.
    """
    ordered = torch.sort(u, dim=1).values
    last = torch.ones_like(u[0]).sum() - 1  # m - 1, as a tensor
    position = levels * last
    below = torch.floor(position)
    low = below.long()
    high = torch.minimum(low + 1, last.long())
    fraction = (position - below).unsqueeze(0)
    lower, upper = ordered.index_select(1, low), ordered.index_select(1, high)
    return lower + fraction * (upper - lower)


class WindowTable(nn.Module):
    """Filtered historical simulation on the posted window: the empirical quantiles of its returns, each over the
    volatility filter's forecast of it, blended into the pooled table with weight m / (m + k) for m returns.

    The pooled table (from every training series) is right on average; a window's own table knows its asset's
    tails (a stock's fatter ones, a currency's thinner shoulders). k is learned from 500 (the default model
    keeps about that): 60 prices move the pooled table by a tenth, 1,000 prices by two thirds. Only the gaps
    between quantiles are blended: the median stays the pooled one (a window's own median return is mostly
    noise). reports/ablation.md measures the model with and without it.
    """

    levels: torch.Tensor

    def __init__(self, levels: tuple[float, ...], median: int) -> None:
        super().__init__()
        self.register_buffer("levels", torch.tensor(levels, dtype=torch.float32))
        self.median = median
        self.log_prior_returns = nn.Parameter(torch.tensor(float(np.log(PRIOR_RETURNS))))

    def prior_returns(self) -> float:
        """k: how many of the window's returns weigh as much as the pooled table."""
        return float(self.log_prior_returns.detach().exp())

    def weight(self, u: torch.Tensor) -> torch.Tensor:
        """(B, m) standardised returns -> (B, 1) the window's weight m / (m + k), m read from the tensor."""
        count = torch.ones_like(u).sum(1, keepdim=True)
        return count / (count + self.log_prior_returns.exp())

    def forward(self, u: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """(B, m) standardised returns, (h, Q) pooled table -> (B, h, Q) the blended table."""
        own = empirical_quantiles(u, self.levels)  # (B, Q)
        weight = self.weight(u).unsqueeze(-1)  # (B, 1, 1)
        centred = (own - own[:, self.median : self.median + 1]).unsqueeze(1) + base[:, self.median : self.median + 1]
        return base + weight * (centred - base)
