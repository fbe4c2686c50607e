"""The volatility filters: the mixture is the GJR recursion, step by step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats  # arch's own dependency

from tests.training.net.test_model import standardised
from training.net.filters import FILTER_BURN_IN, MIN_VARIANCE_RATIO, SCORE_NU
from training.net.model import (
    VolatilityFilter,
)


@pytest.mark.parametrize(("max_window", "length"), [(30, 30), (30, 12), (1000, 61), (1000, 513), (1000, 1000)])
def test_the_filter_mixture_is_the_gjr_recursion_step_by_step(max_window: int, length: int) -> None:
    filters = VolatilityFilter(max_window=max_window)
    z = standardised(3, length, seed=2)[:, 1:, 0]  # (B, n)
    with torch.no_grad():
        v = filters.variances(z)  # (B, K, n + 1)
        persistence, news, asym = filters.coefficients()
        level = z.abs().mean(1) ** 2 * filters.log_level_scale.exp()
        for k in range(len(persistence)):
            alpha, gamma = news[k] * (1 - asym[k]), 2 * news[k] * asym[k]
            beta = persistence[k] - news[k]
            s2 = level.clone()
            for t in range(z.shape[1] + 1):
                torch.testing.assert_close(v[:, k, t], torch.clamp(s2, min=MIN_VARIANCE_RATIO), rtol=1e-4, atol=1e-6)
                if t < z.shape[1]:
                    shock = z[:, t] ** 2
                    s2 = (1 - persistence[k]) * level + (alpha + gamma * (z[:, t] < 0)) * shock + beta * s2
        # each filter weighs by its Student t log-likelihood (variance v, SCORE_NU degrees of freedom) of the
        # window's own returns after the burn-in
        variance = v[..., FILTER_BURN_IN:-1].double().numpy()
        scale = np.sqrt(variance * (SCORE_NU - 2) / SCORE_NU)
        loglik = stats.t.logpdf(z[:, None, FILTER_BURN_IN:].double().numpy(), SCORE_NU, scale=scale).sum(-1)
        weights = torch.softmax(filters.prior + filters.log_temperature.exp() * torch.tensor(loglik).float(), dim=1)
        torch.testing.assert_close(filters(z)[:, 0], torch.sqrt((weights * v[..., -1]).sum(1)))
