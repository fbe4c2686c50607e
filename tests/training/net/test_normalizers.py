"""The in-graph normalisers: fitted on training values only, round trips, a window too short for a return."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.net.normalizers import MinMaxNormalizer, VolNormalizer, WindowNormalizer, feature_kind


def test_window_normalizer_round_trip() -> None:
    norm = WindowNormalizer(["ratio"], [0.01], [0.0])
    x = torch.tensor([[100.0, 101.0, 102.0]]).unsqueeze(-1)
    target = torch.tensor([[103.0, 104.0]])
    y = norm.encode_target(x, target)  # (1, 2)
    torch.testing.assert_close(norm.decode(x, y.unsqueeze(-1))[..., 0], target)
    assert torch.allclose(norm.encode(x)[0, -1, 0], torch.tensor(0.0))  # the last step is log(1) = 0


def test_normalizers_fit_on_given_values_only() -> None:
    prices = np.array([[10.0], [20.0], [15.0]])
    norm = MinMaxNormalizer.fit(prices, ["close"])
    assert norm.describe()["min"] == 10.0 and norm.describe()["max"] == 20.0
    scale = WindowNormalizer.fit(prices, ["close"]).describe()["scales"][0]
    assert scale == pytest.approx(np.diff(np.log(prices[:, 0])).std(), rel=1e-6)
    with pytest.raises(ValueError, match="single price feature"):
        MinMaxNormalizer.fit(np.ones((3, 2)), ["close", "volume"])
    with pytest.raises(ValueError, match="unknown feature 'colour'"):
        feature_kind("colour")


def test_vol_normalizer_needs_one_return() -> None:
    with pytest.raises(ValueError, match="at least 2 prices"):
        VolNormalizer(["ratio"], [0.0], [0.0], 1)
