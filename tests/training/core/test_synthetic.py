"""Simulated assets: parameters over the issue's realistic ranges, reproducible paths, held-out values unused."""

from __future__ import annotations

import numpy as np

from training.core.synthetic import (
    GAMMA_RANGE,
    HELD_OUT,
    NU_RANGE,
    SKEW_RANGE,
    VOL_RANGE,
    draw_asset,
    simulate_asset,
    training_assets,
)


def test_drawn_parameters_stay_in_their_ranges_and_are_stationary() -> None:
    rng = np.random.default_rng(0)
    assets = [draw_asset(rng, i) for i in range(200)]
    for a in assets:
        assert VOL_RANGE[0] <= a.daily_vol <= VOL_RANGE[1] and NU_RANGE[0] <= a.nu <= NU_RANGE[1]
        assert GAMMA_RANGE[0] <= a.gamma <= GAMMA_RANGE[1] and SKEW_RANGE[0] <= a.skew <= SKEW_RANGE[1]
        omega, alpha, gamma, beta = a.arch_parameters()[1:5]
        assert omega > 0 and alpha >= 0 and beta >= 0.5 and alpha + gamma / 2 + beta < 1
    assert {a.drift < 0 for a in assets} == {True, False}  # some drift down, some do not
    assert sum(a.gamma > 0 for a in assets) == 100  # every other path is a GJR-skew-t


def test_no_training_path_has_a_held_out_asset_parameters() -> None:
    rng = np.random.default_rng(7)
    drawn = {(a.daily_vol, a.persistence, a.nu) for a in (draw_asset(rng, i) for i in range(96))}
    assert not drawn & {(h.daily_vol, h.persistence, h.nu) for h in HELD_OUT}


def test_paths_are_reproducible_positive_and_near_their_volatility() -> None:
    first, again = training_assets(2, days=1500), training_assets(2, days=1500)
    assert all(np.array_equal(a.prices, b.prices) for a, b in zip(first, again, strict=True))
    wild = simulate_asset(HELD_OUT[1], days=3000, seed=1)
    returns = np.diff(np.log(wild.prices))
    assert np.all(wild.prices > 0) and len(wild) == 3000
    assert 0.6 * HELD_OUT[1].daily_vol < returns.std() < 1.6 * HELD_OUT[1].daily_vol
