"""The trainer's configurations: features close-first, the network following the features, the head the
normalisation can carry."""

from __future__ import annotations

from pathlib import Path

from training.core.config import DEFAULT_QUANTILES, LSTMConfig, RetrainConfig, TrainConfig, feature_list, feature_names


def test_features_put_close_first_and_keep_each_once() -> None:
    assert feature_names(["volume", "close", "volume", "hl_range"]) == ["close", "volume", "hl_range"]
    assert feature_list(" Volume, CLOSE ,,hl_range") == ["close", "volume", "hl_range"]


def test_the_network_reads_as_many_inputs_as_there_are_features() -> None:
    config = TrainConfig(features=["volume", "hl_range"])
    assert config.features == ["close", "volume", "hl_range"] and config.model.features == 3


def test_only_the_vol_normalisation_keeps_the_residual_head() -> None:
    assert TrainConfig().model.head == "residual"
    assert TrainConfig(normalize="minmax").model.head == "free"  # its base is in units of the EWMA sigma
    assert TrainConfig(normalize="window").model.head == "free"


def test_the_defaults_are_the_documented_model() -> None:
    model = LSTMConfig()
    assert (model.window, model.layers, model.hidden, model.horizon) == (60, 2, 32, 1)
    assert model.quantiles == DEFAULT_QUANTILES and model.median_index == 2
    assert RetrainConfig().min_improvement == 0.001 and RetrainConfig().registry == Path("models")
