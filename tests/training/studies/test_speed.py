"""The graph's speed: measured through onnxruntime at any length the model reads, longer windows costing more."""

from __future__ import annotations

from training.core.config import LSTMConfig, TrainConfig
from training.net.model import PriceForecaster, StackedLSTM
from training.net.normalizers import VolNormalizer
from training.studies import speed


def test_windows_per_second_is_measured_at_the_length_asked() -> None:
    config = TrainConfig(model=LSTMConfig(layers=1, hidden=4, max_window=1000))
    model = PriceForecaster(VolNormalizer(["ratio"], [0.01], [0.0], 60), StackedLSTM(config.model), univariate=True)
    short, long = speed.onnx_speed(model, config), speed.onnx_speed(model, config, 1000)
    assert short > long > 0  # the filters read every posted price
