"""Synthetic assets: GARCH(1,1)-t price paths simulated with `arch` at a chosen daily volatility and price level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from arch.univariate import GARCH, StudentsT, ZeroMean

from training.data import FeatureSeries, PriceSeries

ALPHA, BETA, NU = 0.08, 0.90, 6.0  # a typical equity GARCH-t: persistence 0.98, fat tails
# name -> (daily volatility, starting price); prices at very different levels on purpose
ASSETS = {"calm (0.5%/day)": (0.005, 40.0), "equity-like (1.5%/day)": (0.015, 1500.0), "wild (3%/day)": (0.03, 9.0)}


@dataclass(frozen=True)
class GarchParams:
    """GARCH(1,1)-t on returns in percent: sigma2_t = omega + alpha r_{t-1}^2 + beta sigma2_{t-1}."""

    omega: float
    alpha: float
    beta: float
    nu: float

    @classmethod
    def for_volatility(cls, daily_vol: float, alpha: float = ALPHA, beta: float = BETA, nu: float = NU) -> GarchParams:
        """Parameters whose unconditional daily standard deviation is `daily_vol` (0.015 = 1.5%)."""
        return cls(omega=(daily_vol * 100) ** 2 * (1 - alpha - beta), alpha=alpha, beta=beta, nu=nu)


def simulate_returns(params: GarchParams, days: int, seed: int) -> np.ndarray:
    """Daily log-returns (not percent) of a zero-mean GARCH(1,1)-t, after a 1,000-day burn-in."""
    model = ZeroMean(None, volatility=GARCH(p=1, q=1), distribution=StudentsT(seed=np.random.default_rng(seed)))
    simulated = model.simulate([params.omega, params.alpha, params.beta, params.nu], days, burn=1000)
    return simulated["data"].to_numpy() / 100


def synthetic_series(name: str, daily_vol: float, start_price: float, days: int, seed: int) -> FeatureSeries:
    """A price path from simulated returns, as a FeatureSeries with business-day dates from 2000-01-03."""
    returns = simulate_returns(GarchParams.for_volatility(daily_vol), days - 1, seed)
    prices = start_price * np.exp(np.concatenate([[0.0], np.cumsum(returns)]))
    dates = np.busday_offset(np.datetime64("2000-01-03"), np.arange(days), roll="forward")
    target = PriceSeries(dates=dates, prices=prices, column="close", source=f"synthetic {name}", sha256="-")
    return FeatureSeries(dates=dates, values=prices[:, None], names=["close"], target=target)


def synthetic_assets(days: int = 3000, seed: int = 11) -> list[FeatureSeries]:
    """The three synthetic assets of the report, reproducible from the seed."""
    return [synthetic_series(name, vol, price, days, seed + i) for i, (name, (vol, price)) in enumerate(ASSETS.items())]
