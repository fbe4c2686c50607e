"""The network and the in-graph normalisations: monotone quantiles, scale invariance, min-max's failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from training.net.export import check_parity, export_onnx
from training.net.filters import FILTER_BURN_IN
from training.net.model import (
    GAP_SHIFT,
    MEDIAN_SHIFT,
    SCALE_SHIFT,
    LSTMConfig,
    PriceForecaster,
    StackedLSTM,
    monotone_quantiles,
)
from training.net.normalizers import MinMaxNormalizer, VolNormalizer, WindowNormalizer, feature_kind


def model_with(normalizer: torch.nn.Module, cell: str = "lstm", features: int = 1, horizon: int = 1) -> PriceForecaster:
    torch.manual_seed(0)
    config = LSTMConfig(window=20, cell=cell, layers=2, hidden=8, features=features, horizon=horizon)
    return PriceForecaster(normalizer, StackedLSTM(config), univariate=features == 1).eval()


def random_walk(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    steps = np.random.default_rng(seed).normal(0, 0.01, shape)
    return torch.tensor(100 * np.exp(np.cumsum(steps, axis=1)), dtype=torch.float32)


def test_quantiles_never_cross() -> None:
    raw = torch.randn(64, 3, 5) * 10
    q = monotone_quantiles(raw, median=2)
    assert torch.all(q[..., 1:] >= q[..., :-1])
    torch.testing.assert_close(q[..., 2], raw[..., 2])


@pytest.mark.parametrize("horizon", [1, 3])
def test_window_model_is_scale_invariant(horizon: int) -> None:
    model = model_with(WindowNormalizer(["ratio"], [0.012], [0.0]), horizon=horizon)
    x = random_walk((4, 20))
    with torch.no_grad():
        base_f, base_q = model(x)
        for k in (0.01, 3.0, 1000.0):
            f, q = model(x * k)
            torch.testing.assert_close(f, base_f * k, rtol=1e-5, atol=0)
            torch.testing.assert_close(q, base_q * k, rtol=1e-5, atol=0)
    assert base_f.shape == ((4,) if horizon == 1 else (4, horizon))
    assert base_q.shape == ((4, 5) if horizon == 1 else (4, horizon, 5))


def test_multivariate_model_is_scale_invariant_in_every_price_and_volume() -> None:
    names = ["close", "volume", "hl_range", "nasdaq_close"]
    norm = WindowNormalizer([feature_kind(n) for n in names], [0.01, 0.3, 0.005, 0.012], [0, 0, 0.01, 0])
    model = model_with(norm, features=4)
    x = torch.stack([random_walk((3, 20), i) for i in range(4)], dim=-1)
    x[..., 2] = x[..., 2] / 5000  # hl_range is a small dimensionless level
    with torch.no_grad():
        base, _ = model(x)
        scaled = x.clone()
        scaled[..., 0] *= 7.0  # the forecast price scales with close ...
        scaled[..., 1] *= 1e6  # ... and does not care about the units of volume or the other index
        scaled[..., 3] *= 0.2
        torch.testing.assert_close(model(scaled)[0], base * 7.0, rtol=1e-5, atol=0)


def test_minmax_model_is_not_scale_invariant() -> None:
    model = model_with(MinMaxNormalizer(50.0, 150.0))
    x = torch.linspace(90, 110, 20).repeat(2, 1)
    with torch.no_grad():
        assert not torch.allclose(model(x * 10)[0], model(x)[0] * 10, rtol=1e-2)


def test_gru_cell_builds() -> None:
    model = model_with(WindowNormalizer(["ratio"], [0.01], [0.0]), cell="gru")
    assert isinstance(model.net.rnn, torch.nn.GRU)
    assert model(torch.full((3, 20), 50.0))[0].shape == (3,)


def log_moves(seed: int, rows: int = 4, window: int = 20) -> np.ndarray:
    """(rows, window) daily log-moves of a random walk with 1% volatility."""
    return np.random.default_rng(seed).normal(0, 0.01, (rows, window - 1))


def prices_from(moves: np.ndarray, start: float = 100.0) -> torch.Tensor:
    """Prices whose log-moves are `moves`, from `start`."""
    path = np.concatenate([np.zeros((len(moves), 1)), np.cumsum(moves, axis=1)], axis=1)
    return torch.tensor(start * np.exp(path), dtype=torch.float32)


def log_quantiles(model: PriceForecaster, x: torch.Tensor) -> torch.Tensor:
    """log(q / last price) of every quantile: the log-space offsets that vol equivariance scales."""
    with torch.no_grad():
        q = model(x)[1]  # (B, Q) or (B, h, Q)
        return torch.log(q / x[:, -1].reshape(-1, *[1] * (q.dim() - 1)))


@pytest.mark.parametrize("horizon", [1, 3])
def test_vol_model_is_volatility_equivariant_exactly(horizon: int) -> None:
    model = model_with(VolNormalizer(["ratio"], [0.0], [0.0], 20), horizon=horizon)
    model.interval_scale.copy_(torch.tensor([1.3, 0.9, 1.0, 1.1, 1.4]))  # conformal factors are inside
    moves = log_moves(0)
    base = log_quantiles(model, prices_from(moves))
    for k in (0.5, 2.0, 3.0, 10.0):
        torch.testing.assert_close(
            log_quantiles(model, prices_from(moves * k)), base * k, rtol=2e-4, atol=5e-7
        )  # float32 rounding only


def test_vol_model_is_price_equivariant() -> None:
    model = model_with(VolNormalizer(["ratio"], [0.0], [0.0], 20))
    x = prices_from(log_moves(1))
    with torch.no_grad():
        base_f, base_q = model(x)
        for k in (1e-3, 0.37, 12.0, 5e4):
            f, q = model(x * k)
            torch.testing.assert_close(f, base_f * k, rtol=1e-5, atol=0)
            torch.testing.assert_close(q, base_q * k, rtol=1e-5, atol=0)


@pytest.mark.parametrize("vol", [0.0, 1e-9, 1e-6])
def test_vol_model_is_finite_on_flat_and_tiny_volatility_windows(vol: float) -> None:
    model = model_with(VolNormalizer(["ratio"], [0.0], [0.0], 20))
    x = prices_from(log_moves(2) / 0.01 * vol, start=2500.0)
    with torch.no_grad():
        forecast, quantiles = model(x)
    assert torch.isfinite(forecast).all() and torch.isfinite(quantiles).all()
    assert torch.all(quantiles[:, 1:] >= quantiles[:, :-1])
    # the floor (0.01% a day) bounds how far from the last price any quantile can be
    spread = torch.log(quantiles / x[:, -1:]).abs().max()
    assert spread < 1e-4 * 20


def test_interval_scale_scales_offsets_from_the_median_and_never_crosses() -> None:
    model = model_with(VolNormalizer(["ratio"], [0.0], [0.0], 20))
    z = torch.tensor([[[-2.0, -1.0, 0.5, 1.5, 2.0]]])
    model.interval_scale.copy_(torch.tensor([[1.0, 3.0, 1.0, 1.0, 1.0]]))  # would push 0.1 below 0.025
    scaled = model.scaled(z)
    assert torch.all(scaled[..., 1:] >= scaled[..., :-1])
    torch.testing.assert_close(scaled[0, 0, 2], torch.tensor(0.5))  # the median never moves


def residual_net(window: int = 20) -> StackedLSTM:
    torch.manual_seed(0)
    return StackedLSTM(LSTMConfig(window=window, layers=1, hidden=8)).eval()


def standardised(batch: int, steps: int, seed: int = 0) -> torch.Tensor:
    return torch.tensor(np.random.default_rng(seed).standard_t(5, (batch, steps, 1)), dtype=torch.float32)


def blended_base(net: StackedLSTM, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, Q) the pooled table blended with each window's own, and (B, 1) the filter's sigma ratio."""
    z = x[:, 1:, 0]
    ratio, past = net.vol.mixture(z)
    return net.table(z[:, FILTER_BURN_IN:] / past, net.base)[:, 0, :], ratio


def test_an_untrained_residual_head_is_its_blended_base_scaled_by_the_volatility_filter() -> None:
    net = residual_net()
    net.set_base(np.array([[-2.1, -1.3, 0.05, 1.2, 2.0]]))
    x = standardised(16, 20)
    with torch.no_grad():
        z, (base, ratio) = net(x)[:, 0, :], blended_base(net, x)
    torch.testing.assert_close(z, base[:, 2:3] + (base - base[:, 2:3]) * ratio)
    assert torch.all(ratio > 0.19)  # MIN_VARIANCE_RATIO keeps it at 0.2 EWMA sigmas or more
    assert not torch.allclose(base, net.base.expand_as(base))  # the window's own returns moved it


def test_a_trained_residual_head_moves_only_within_its_bounds_and_never_crosses() -> None:
    net = residual_net()
    net.set_base(np.array([[-2.1, -1.3, 0.05, 1.2, 2.0]]))
    with torch.no_grad():
        for p in net.head.parameters():
            p.normal_(0, 30.0)  # far past the bounds
        x = standardised(256, 20, seed=1)
        z, (base, ratio) = net(x)[:, 0, :], blended_base(net, x)
    assert torch.all(z[:, 1:] > z[:, :-1])
    assert torch.all((z[:, 2] - 0.05).abs() <= MEDIAN_SHIFT + 1e-6)
    gaps = (z[:, 1:] - z[:, :-1]) / ratio / (base[:, 1:] - base[:, :-1])
    limit = np.exp(SCALE_SHIFT + GAP_SHIFT)
    assert torch.all(gaps <= limit * (1 + 1e-5)) and torch.all(gaps >= (1 - 1e-5) / limit)


def test_a_fading_network_keeps_k_over_m_plus_k_of_its_correction_and_exports_so(tmp_path: Path) -> None:
    """With network_fades, a window of m returns gets the correction of a head scaled by 1 - m / (m + k), exactly,
    at every length the exported graph is given."""
    torch.manual_seed(0)
    faded = StackedLSTM(LSTMConfig(window=20, max_window=300, layers=1, hidden=8, network_fades=True)).eval()
    plain = StackedLSTM(LSTMConfig(window=20, max_window=300, layers=1, hidden=8)).eval()
    plain.load_state_dict(faded.state_dict())
    with torch.no_grad():
        for p in faded.head.parameters():
            p.normal_(0, 0.3)
        head = {name: p.clone() for name, p in faded.head.named_parameters()}
        for steps in (20, 120, 300):
            x = standardised(8, steps, seed=steps)
            kept = 1 - faded.table.weight(x[:, 1 + FILTER_BURN_IN :, 0])[0, 0]
            assert 0 < kept < 1
            for name, p in plain.head.named_parameters():
                p.copy_(head[name] * kept)
            torch.testing.assert_close(faded(x), plain(x))
    model = PriceForecaster(VolNormalizer(["ratio"], [0.0], [0.0], 20), faded, True).eval()
    path = tmp_path / "faded.onnx"
    export_onnx(model, 20, path, {"version": "x"}, max_window=300)
    for steps in (20, 120, 300):
        assert check_parity(model, path, prices_from(log_moves(steps, window=steps)).numpy()) <= 1e-5


def test_a_fading_network_needs_the_window_s_own_table() -> None:
    with pytest.raises(ValueError, match="needs the window's own table"):
        LSTMConfig(network_fades=True, window_table=False)
    with pytest.raises(ValueError, match="needs the window's own table"):
        LSTMConfig(network_fades=True, horizon=3)


def test_without_a_network_the_answer_is_the_base_alone_and_the_export_has_no_recurrent_layer(tmp_path: Path) -> None:
    """reads 0: no recurrent layer and no head, not even in the weights; the quantiles are those of an untrained
    network's zero correction at every length, and the exported graph (which has no LSTM node) agrees with torch."""
    import onnx

    torch.manual_seed(0)
    alone = StackedLSTM(LSTMConfig(window=20, max_window=300, layers=1, hidden=8, reads=0)).eval()
    untrained = StackedLSTM(LSTMConfig(window=20, max_window=300, layers=1, hidden=8)).eval()
    assert alone.rnn is None and alone.head is None
    assert not any(k.startswith(("rnn.", "head.")) for k in alone.state_dict())
    with torch.no_grad():
        for p in alone.vol.parameters():  # away from the initial filters, so that the comparison is not trivial
            p.add_(0.1)
        for p in untrained.rnn.parameters():
            p.normal_(0, 0.3)
        missing, unexpected = untrained.load_state_dict(alone.state_dict(), strict=False)
        assert not unexpected and all(k.startswith(("rnn.", "head.")) for k in missing)
        for steps in (20, 120, 300):
            x = standardised(8, steps, seed=steps)
            torch.testing.assert_close(alone(x), untrained(x))  # the untrained head's correction is zero
    model = PriceForecaster(VolNormalizer(["ratio"], [0.0], [0.0], 20), alone, True).eval()
    path = tmp_path / "alone.onnx"
    export_onnx(model, 20, path, {"version": "x"}, max_window=300)
    assert "LSTM" not in {node.op_type for node in onnx.load(path).graph.node}
    for steps in (20, 120, 300):
        assert check_parity(model, path, prices_from(log_moves(steps, window=steps)).numpy()) <= 1e-5


def test_the_base_alone_needs_the_residual_head() -> None:
    with pytest.raises(ValueError, match="needs the residual head"):
        LSTMConfig(reads=0, head="free")
