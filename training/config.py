"""The trainer's configurations, torch-free: what the CLI fills in and the model card records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from training.data import DEFAULT_TRAINING_DATA

NORMALIZATIONS = ("vol", "window", "minmax")
CELLS = ("lstm", "gru")
DEFAULT_QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)


@dataclass
class LSTMConfig:
    """Shape of the network; the defaults are the design's 4 x 50 LSTM over 60 steps."""

    window: int = 60
    cell: str = "lstm"
    layers: int = 4
    hidden: int = 50
    dropout: float = 0.2
    features: int = 1
    horizon: int = 1
    quantiles: tuple[float, ...] = field(default=DEFAULT_QUANTILES)

    @property
    def median_index(self) -> int:
        return self.quantiles.index(0.5)


@dataclass
class TrainConfig:
    """Everything one training run depends on; the CLI fills it, the model card records it."""

    data: list[Path] = field(default_factory=lambda: list(DEFAULT_TRAINING_DATA))
    column: str | None = None
    features: list[str] = field(default_factory=lambda: ["close"])
    extras: dict[str, Path] = field(default_factory=dict)
    out: Path = Path("models")
    model: LSTMConfig = field(default_factory=LSTMConfig)
    normalize: str = "vol"
    conformal: bool = True  # scale the quantiles on the validation split so that they cover as nominal
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    patience: int = 5
    val_days: int = 250
    test_days: int = 250
    seed: int = 0
    threads: int = 0  # 0: the CPUs this process may use
    progress: bool = True
