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


def scan_spans(lags: int) -> tuple[int, ...]:
    """The doubling spans 1, 2, 4, ... whose scan reaches back `lags` steps."""
    spans = [1]
    while spans[-1] * 2 < lags:
        spans.append(spans[-1] * 2)
    return tuple(spans)


def decayed_sums(drive: torch.Tensor, beta: torch.Tensor, spans: tuple[int, ...]) -> torch.Tensor:
    """(B, K, n) drives, (K, 1) beta -> h_t = sum over i <= t of beta^(t - i) d_i, exact while t < 2 * spans[-1].

    Each step adds the sums one span back, decayed by beta^span (Hillis-Steele): after spans 1 .. s every
    h_t holds the last 2s drives. Shifting by padding on the left and cutting as many on the right keeps
    the length whatever it is, so the exported graph has no fixed window; every factor is at most 1.
    """
    h = drive
    for span in spans:
        h = h + beta**span * torch.nn.functional.pad(h, (span, 0))[..., :-span]
    return h


def logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


class VolatilityFilter(nn.Module):
    """Next-day volatility from a mixture of GJR-GARCH(1,1,1) recursions, each weighted by how well it
    forecast the window's own returns.

    Filter k: sigma2_{t+1} = (1 - P) v + (alpha + gamma 1[r_t < 0]) r_t^2 + beta sigma2_t, started at and
    targeting v, the window's variance level (P = alpha + gamma / 2 + beta). v is a scaled square of the mean
    absolute return: far steadier than the mean square under fat tails, where one crash day would set it.
    A filter is linear in sigma2, so every step's forecast is a sum of past drives decayed by beta, which a
    scan by doubling spans computes for a window of any length in log2(max_window) vectorised steps: the
    graph takes windows of every length up to max_window, exactly, in time O(n log n). Each filter's Student t
    log-score (SCORE_NU) on the window's returns (after a burn-in) gives its weight through a softmax with a
    learned temperature and prior, so a window that behaves like an index with strong leverage leans on the
    asymmetric filter and a calm symmetric one on the others: the window picks its model, as a per-asset GARCH
    fit would, and a longer window picks with more confidence. It works on returns over the EWMA sigma, so it
    returns the ratio of its sigma to that one. All parameters are pooled over the training windows.
    """

    def __init__(self, max_window: int) -> None:
        super().__init__()
        self.spans = scan_spans(max_window - 1)
        self.persistence_logit = nn.Parameter(torch.tensor([logit(g[0]) for g in FILTER_GRID]))
        self.news_logit = nn.Parameter(torch.tensor([logit(g[1]) for g in FILTER_GRID]))
        self.asymmetry_logit = nn.Parameter(torch.tensor([logit(g[2]) for g in FILTER_GRID]))
        self.log_temperature = nn.Parameter(torch.tensor(0.0))
        self.prior = nn.Parameter(torch.zeros(len(FILTER_GRID)))
        self.log_level_scale = nn.Parameter(torch.tensor(float(np.log(np.pi / 2))))  # (E|e|)^2 = 2/pi for a normal

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
        decayed = decayed_sums(drive, beta[..., 0], self.spans)  # (B, K, n): step t's sum over the drives up to t
        ages = torch.cumsum(torch.ones_like(torch.nn.functional.pad(z[:1], (1, 0))), 1) - 1  # (1, n + 1): 0 .. n
        start = beta[..., 0] ** ages[:, None, :] * level  # (B, K, n + 1); the powers once, not per window
        previous = torch.nn.functional.pad(decayed, (1, 0))  # the forecast for t reads the drives before t
        return torch.clamp(previous + start, min=MIN_VARIANCE_RATIO)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, n) returns over the EWMA sigma -> (B, 1) the mixture's sigma over the EWMA sigma."""
        return self.mixture(z)[0]

    def mixture(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, n) returns over the EWMA sigma -> the mixture's next sigma (B, 1) and its forecast of each return
        after the burn-in (B, n - FILTER_BURN_IN), both over the EWMA sigma."""
        v = self.variances(z)
        past, squares = v[..., FILTER_BURN_IN:-1], (z * z)[:, None, FILTER_BURN_IN:]
        # minus twice the t log-likelihood, up to a constant; log(1 + u) rather than log1p, which ONNX lacks
        fit = torch.log(past) + (SCORE_NU + 1) * torch.log(1 + squares / ((SCORE_NU - 2) * past))
        weights = torch.softmax(self.prior - 0.5 * self.log_temperature.exp() * fit.sum(-1), dim=1)[..., None]
        return torch.sqrt((weights[..., 0] * v[..., -1]).sum(1, keepdim=True)), torch.sqrt((weights * past).sum(1))
