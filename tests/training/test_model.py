"""The in-graph normalisations: the window one is scale-invariant, the min-max one is not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.model import (
    LSTMConfig,
    MinMaxNormalizer,
    PriceForecaster,
    StackedLSTM,
    WindowNormalizer,
)


def model_with(normalizer: torch.nn.Module, cell: str = "lstm") -> PriceForecaster:
    torch.manual_seed(0)
    return PriceForecaster(
        normalizer, StackedLSTM(LSTMConfig(window=20, cell=cell, layers=2, hidden=8))
    ).eval()


def test_window_normalizer_round_trip() -> None:
    norm = WindowNormalizer(0.01)
    prices = torch.tensor([[100.0, 101.0, 102.0]])
    target = torch.tensor([103.0])
    y = norm.encode_target(prices, target)
    assert torch.allclose(norm.decode(prices, y), target)
    assert torch.allclose(norm.encode(prices)[0, -1, 0], torch.tensor(0.0))  # last step is log(1) = 0


def test_window_model_is_scale_invariant() -> None:
    model = model_with(WindowNormalizer(0.012))
    x = torch.tensor(
        100 + np.cumsum(np.random.default_rng(0).normal(0, 1, (4, 20)), axis=1), dtype=torch.float32
    )
    with torch.no_grad():
        base = model(x)
        for k in (0.01, 3.0, 1000.0):
            torch.testing.assert_close(model(x * k), base * k, rtol=1e-5, atol=0)


def test_minmax_model_is_not_scale_invariant() -> None:
    model = model_with(MinMaxNormalizer(50.0, 150.0))
    x = torch.linspace(90, 110, 20).repeat(2, 1)
    with torch.no_grad():
        assert not torch.allclose(model(x * 10), model(x) * 10, rtol=1e-2)


def test_gru_cell_builds() -> None:
    model = model_with(WindowNormalizer(0.01), cell="gru")
    assert isinstance(model.net.rnn, torch.nn.GRU)
    assert model(torch.full((3, 20), 50.0)).shape == (3,)


def test_normalizers_fit_on_given_prices_only() -> None:
    prices = np.array([10.0, 20.0, 15.0])
    norm = MinMaxNormalizer.fit(prices)
    assert norm.describe()["min"] == 10.0 and norm.describe()["max"] == 20.0
    scale = WindowNormalizer.fit(prices).describe()["scale"]
    assert scale == pytest.approx(np.diff(np.log(prices)).std(), rel=1e-6)
