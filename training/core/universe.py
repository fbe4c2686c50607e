"""The series one training run pools: the files of --data, and --simulated paths drawn by the trainer."""

from __future__ import annotations

import hashlib

from training.core.config import TrainConfig
from training.core.data import DataError, FeatureSeries, load_training_data
from training.core.synthetic import training_assets

SIMULATED_DAYS = 2500  # days of each simulated training path
SIMULATED_SEED = 7


def load_universe(config: TrainConfig) -> list[FeatureSeries]:
    """Every file's series, then the simulated paths (close only, so with other features there are none)."""
    series = load_training_data(config)
    if not config.simulated:
        return series
    if config.features != ["close"]:
        raise DataError(f"--features {','.join(config.features)}: simulated paths have only a close; add --simulated 0")
    return series + [with_digest(s) for s in training_assets(config.simulated, SIMULATED_DAYS, SIMULATED_SEED)]


def with_digest(series: FeatureSeries) -> FeatureSeries:
    """A simulated series whose sha256 is that of its prices, so that the card and retrain can tell paths apart."""
    digest = hashlib.sha256(series.values.tobytes()).hexdigest()
    target = type(series.target)(series.dates, series.prices, series.column, series.source, digest)
    return FeatureSeries(series.dates, series.values, series.names, target)
