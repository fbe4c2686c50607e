"""The series one training run pools: the files of --data, and --simulated paths drawn by the trainer."""

from __future__ import annotations

import hashlib

from training.core.config import TrainConfig
from training.core.data import FeatureSeries, load_training_data
from training.core.errors import DataError
from training.core.synthetic import SIMULATED, training_assets

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


def series_identity(name: str, sha256: str) -> tuple[str, str]:
    """What tells two training series apart: a file by its name and its bytes, a simulated path by its name.

    A simulated path is drawn from a fixed seed by numpy and `arch`, whose vectorised exp and log round the last
    bits differently on different CPUs (with AVX-512 or without): its prices, and so their sha256, differ between
    machines, while its name (kind and number), with the card's count of paths, names the same recipe everywhere.
    """
    return (name, "simulated") if name.startswith(SIMULATED) else (name, sha256)
