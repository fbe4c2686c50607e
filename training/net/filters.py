"""The volatility filters inside the graph: a mixture of GJR-GARCH recursions weighted by their fit to the window."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from training.core.config import CELLS, DEFAULT_QUANTILES, NORMALIZATIONS, LSTMConfig  # noqa: F401 (re-exported)

# The filters the volatility mixture starts from: (persistence P, news share alpha + gamma/2, asymmetry
# gamma / (2 (alpha + gamma/2))): RiskMetrics-like, an equity GARCH, an index-like GJR with all of its news
# in falls (alpha 0, gamma 0.24: what `arch` fits on the S&P 500), a milder GJR, and a fast-reverting one.
FILTER_GRID = ((0.999, 0.06, 0.02), (0.98, 0.08, 0.02), (0.985, 0.12, 0.98), (0.985, 0.08, 0.5), (0.95, 0.10, 0.3))


FILTER_BURN_IN = 10  # returns each filter runs before its fit to the window is counted


MIN_VARIANCE_RATIO = 0.04  # a filter's sigma is at least 0.2 EWMA sigmas: a flat window keeps the floor's width


# Each filter is scored on the window by a Student t log-likelihood with 5 degrees of freedom: under a Gaussian
# score one crash day decides which filter wins, and daily returns have tails about that fat (nu 4-6 in GARCH-t
# fits of indices and stocks). docs/model.md and reports/loo.md give the measured difference.
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
