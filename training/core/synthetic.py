"""Synthetic assets: GARCH(1,1)-t and GJR-GARCH-skew-t price paths simulated with `arch`, for training and checks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from arch.univariate import GARCH, ConstantMean, SkewStudent, StudentsT, ZeroMean

from training.core.csvfile import PriceSeries
from training.core.data import FeatureSeries

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


@dataclass(frozen=True)
class SimulatedAsset:
    """A GJR-GARCH(1,1,1) price path's parameters; gamma 0 and skew 0 make it a GARCH(1,1)-t.

    Returns r_t = drift + sigma_t e_t, e_t standardised (skewed) Student t; sigma2_t = omega +
    (alpha + gamma 1[r_{t-1} < drift]) (r_{t-1} - drift)^2 + beta sigma2_{t-1}, persistence
    P = alpha + gamma/2 + beta, omega set so that the unconditional daily volatility is `daily_vol`.
    """

    name: str
    daily_vol: float
    persistence: float
    alpha: float
    gamma: float
    nu: float
    skew: float  # Hansen's lambda: negative = a heavier left tail
    drift: float  # daily log-return, in units of daily_vol
    start_price: float = 100.0

    def arch_parameters(self) -> list[float]:
        """[mu, omega, alpha, gamma, beta, nu(, lambda)] for arch, on returns in percent."""
        beta = self.persistence - self.alpha - self.gamma / 2
        omega = (self.daily_vol * 100) ** 2 * (1 - self.persistence)
        shape = [self.nu, self.skew] if self.skew else [self.nu]
        return [self.drift * self.daily_vol * 100, omega, self.alpha, self.gamma, beta, *shape]


# Ranges the training paths are drawn from (the realistic ranges): daily volatility 0.5-4%,
# leverage gamma 0-0.2, skew -0.3-0, nu 4-12; persistence and alpha as equity and commodity fits give.
VOL_RANGE, PERSISTENCE_RANGE, ALPHA_RANGE = (0.005, 0.04), (0.95, 0.995), (0.0, 0.12)
GAMMA_RANGE, NU_RANGE, SKEW_RANGE = (0.0, 0.2), (4.0, 12.0), (-0.3, 0.0)
DRIFTS = (-0.04, 0.0, 0.0, 0.03)  # down, sideways twice, up: in daily sigmas (0.03 sigma ~ 12%/year at 1.5%)

SIMULATED = "simulated"  # the first word of every simulated training path's name

# Held out of every training run: scored in the leave-one-asset-out table; no training path has these values.
HELD_OUT = (
    SimulatedAsset("held-out GJR-skew-t, strong leverage, falling", 0.012, 0.985, 0.03, 0.15, 6.0, -0.2, -0.025),
    SimulatedAsset("held-out GARCH-t, wild", 0.025, 0.97, 0.09, 0.0, 5.0, 0.0, 0.0),
    SimulatedAsset("held-out GJR-skew-t, calm, rising", 0.007, 0.975, 0.05, 0.08, 10.0, -0.1, 0.03),
)


def draw_asset(rng: np.random.Generator, index: int) -> SimulatedAsset:
    """Parameters drawn over the ranges; every other path is a GJR-skew-t, the rest GARCH-t."""
    gjr = index % 2 == 0
    persistence = float(rng.uniform(*PERSISTENCE_RANGE))
    gamma = float(rng.uniform(*GAMMA_RANGE)) if gjr else 0.0
    alpha = float(min(rng.uniform(*ALPHA_RANGE), persistence - gamma / 2 - 0.5))  # beta stays >= 0.5
    return SimulatedAsset(
        name=f"{SIMULATED} {'GJR-skew-t' if gjr else 'GARCH-t'} #{index + 1}",
        daily_vol=float(np.exp(rng.uniform(*np.log(VOL_RANGE)))),
        persistence=persistence,
        alpha=alpha,
        gamma=gamma,
        nu=float(rng.uniform(*NU_RANGE)),
        skew=float(rng.uniform(*SKEW_RANGE)) if gjr else 0.0,
        drift=float(rng.choice(DRIFTS) * rng.uniform(0.0, 1.0)),
        start_price=float(np.exp(rng.uniform(np.log(5.0), np.log(5000.0)))),
    )


def simulate_asset(asset: SimulatedAsset, days: int, seed: int) -> FeatureSeries:
    """A price path of the asset, as a FeatureSeries with business-day dates from 2000-01-03."""
    rng = np.random.default_rng(seed)
    distribution = SkewStudent(seed=rng) if asset.skew else StudentsT(seed=rng)
    model = ConstantMean(None, volatility=GARCH(p=1, o=1, q=1), distribution=distribution)
    returns = model.simulate(asset.arch_parameters(), days - 1, burn=1000)["data"].to_numpy() / 100
    prices = asset.start_price * np.exp(np.concatenate([[0.0], np.cumsum(returns)]))
    dates = np.busday_offset(np.datetime64("2000-01-03"), np.arange(days), roll="forward")
    target = PriceSeries(dates=dates, prices=prices, column="close", source=asset.name, sha256="-")
    return FeatureSeries(dates=dates, values=prices[:, None], names=["close"], target=target)


def training_assets(count: int, days: int = 2500, seed: int = 7) -> list[FeatureSeries]:
    """`count` simulated paths with parameters drawn over the ranges, reproducible from the seed."""
    rng = np.random.default_rng(seed)
    return [simulate_asset(draw_asset(rng, i), days, seed * 1000 + i) for i in range(count)]


HELD_OUT_DAYS = 3100  # days of each held-out path: 2,500 scored after the simple methods' 1,000 and the windows


def held_out_assets(days: int = HELD_OUT_DAYS, seed: int = 900) -> list[FeatureSeries]:
    """The held-out simulated assets, reproducible."""
    return [simulate_asset(asset, days, seed + i) for i, asset in enumerate(HELD_OUT)]
