"""The trainer's configurations, torch-free: each field's default and help live here, the CLI is made from them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from training.core.data import DEFAULT_TRAINING_DATA
from training.core.options import (
    duration,
    extra_series,
    horizon_days,
    named_paths,
    non_negative_int,
    option,
    positive_int,
    quantile_list,
    unit_float,
)

NORMALIZATIONS = ("vol", "window", "minmax")
CELLS = ("lstm", "gru")
HEADS = ("residual", "free")
DEFAULT_QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
MODEL_NAME = "lstm-forecast"  # the name Triton, KServe and OIP clients address
# A retrained challenger must beat the champion's pinball loss by 0.1% (scoring/gate.decide), so ties keep the champion.
MIN_PINBALL_IMPROVEMENT = 0.001
# The quality gate in words, for the help of every option that skips or overrides it (scoring/gate.py decides).
GATE_RULES = (
    "80%/95% coverage not rejected by Kupiec at 5%; on no data file's series a significant pinball loss to FHS, "
    "GARCH(1,1)-t or GJR-GARCH-skew-t (Diebold-Mariano, Holm, p < 0.05); pooled pinball at most 1.02x GARCH-t's "
    "and MAE at most 1.02x naive's"
)
MIN_EVERY_SECONDS = 3600.0  # a retraining loop faster than hourly is almost surely a typo (24 for 24h)


def feature_names(names: list[str]) -> list[str]:
    """The model's input features: close first, then the others once each, in order."""
    return ["close", *dict.fromkeys(n for n in names if n != "close")]


def feature_list(text: str) -> list[str]:
    """'close,volume' -> ['close', 'volume'] (close first, no duplicates)."""
    return feature_names([n.strip().lower() for n in text.split(",") if n.strip()])


@dataclass
class LSTMConfig:
    """Shape of the network; the defaults (2 x 32 over 60 steps) follow the ablation in reports/ablation.md."""

    window: int = option(60, "the shortest window the model answers, in prices (its min_window)", parse=positive_int)
    max_window: int = option(
        1000,
        "the longest window the model answers, in prices: the volatility filters and the EWMA sigma read every "
        "price posted, training draws lengths from window to max_window",
        parse=positive_int,
    )
    reads: int = option(60, "the newest prices the network reads (0: none, the base alone)", parse=non_negative_int)
    window_table: bool = option(True, "the residual head's pooled table alone, without each window's own table")
    network_fades: bool = option(False, "the network's correction counts as k returns, as the pooled table does")
    cell: str = option("lstm", "recurrent cell", choices=CELLS)
    layers: int = option(2, "stacked layers", parse=positive_int)
    hidden: int = option(32, "units per layer", parse=positive_int)
    dropout: float = option(0.2, "dropout between layers", parse=unit_float)
    features: int = 1  # follows TrainConfig.features
    horizon: int = option(1, "trading days forecast at once, 1..10", parse=horizon_days)
    head: str = option(
        "residual",
        "'residual': filtered historical simulation with a learned asymmetric volatility filter, plus a "
        "bounded correction that starts at zero; 'free': an unconstrained monotone quantile head (what "
        "the window and minmax normalisations always use)",
        choices=HEADS,
    )
    quantiles: tuple[float, ...] = option(
        DEFAULT_QUANTILES,
        "quantile levels of the interval output, comma-separated; 0.5 is always included",
        parse=quantile_list,
        shown=",".join(map(str, DEFAULT_QUANTILES)),
    )

    @property
    def median_index(self) -> int:
        return self.quantiles.index(0.5)

    def __post_init__(self) -> None:
        if self.max_window < self.window:
            raise ValueError(f"--max-window {self.max_window} is below --window {self.window}")
        if self.reads == 0 and self.head != "residual":
            raise ValueError("--reads 0 (the base alone) needs the residual head: the free head is the network")
        if self.network_fades and not (self.window_table and self.head == "residual" and self.horizon == 1):
            raise ValueError("--network-fades needs the window's own table (the residual head, a one-day horizon)")


@dataclass
class TrainConfig:
    """Everything one training run depends on; the CLI fills it, the model card records it."""

    data: list[Path] = option(
        help="daily price CSV (.csv or .csv.gz; comma, semicolon or tab): Yahoo OHLCV, the tutorial format "
        "with quoted thousands, or DATE,VALUE; repeat it to train on several series at once, each split "
        "in time on its own",
        factory=lambda: list(DEFAULT_TRAINING_DATA),
        parse=Path,
        repeat=True,
        shown="every bundled series: S&P 500, NASDAQ Composite, Dow Jones, Apple, IBM, Google, five US dollar "
        "exchange rates 1980-87, the S&P 500 1980-91",
    )
    simulated: int = option(
        24,
        "simulated GARCH-t and GJR-skew-t price paths (realistic parameters, some drifting) pooled into training",
        parse=non_negative_int,
    )
    column: str | None = option(
        None,
        "price column to forecast, case-insensitive",
        shown="'Adj Close' if the file has it, else 'Close', else the only value column",
    )
    features: list[str] = option(
        help="comma-separated input features, 'close' (the --column price, always first) plus any of "
        "open, high, low, volume, hl_range ((High-Low)/Close), <name>_close from --extra",
        factory=lambda: ["close"],
        parse=feature_list,
        shown="close alone",
    )
    extras: dict[str, Path] = named_paths(
        "another daily CSV joined on date, usable as feature NAME_close "
        "(e.g. --extra nasdaq=training/data/nasdaq.csv.gz); repeatable",
        parse=extra_series,
        flag="--extra",
        shown="none",
    )
    model: LSTMConfig = field(default_factory=LSTMConfig)
    normalize: str = option(
        "vol",
        "'vol': log-returns divided by the window's own EWMA volatility, so that intervals scale with any "
        "asset's volatility and price level; 'window': log(p/p_last) over a fixed training-period scale; "
        "'minmax': the tutorial's global scaler fitted on training prices",
        choices=NORMALIZATIONS,
    )
    conformal: bool = option(True, "skip the split-conformal step that scales the quantiles on the validation split")
    epochs: int = option(15, "most epochs", parse=positive_int)
    batch_size: int = option(256, "windows per optimiser step", parse=positive_int)
    windows_per_epoch: int = option(
        40_000,
        "train each epoch on a fresh random sample of this many windows",
        parse=non_negative_int,
        shown="40,000; 0: every window once",
    )
    lr: float = option(2e-3, "Adam learning rate")
    patience: int = option(
        5,
        "stop after this many epochs without a better validation loss; the best epoch's weights are kept",
        parse=positive_int,
    )
    val_days: int = option(250, "validation split: trading days before the test split", parse=positive_int)
    test_days: int = option(250, "test split: the newest trading days, never trained on", parse=positive_int)
    seed: int = option(0, "random seed")
    threads: int = option(0, "torch CPU threads", shown="0: the CPUs this process may use")
    progress: bool = option(True, "no progress bar")

    def __post_init__(self) -> None:
        # The feature list as the data loader reads it, and the network's input width following it.
        self.features = feature_names(self.features)
        if self.model.features != len(self.features):
            self.model = replace(self.model, features=len(self.features))
        if self.normalize != "vol" and self.model.head == "residual":  # its base is in units of the EWMA sigma
            self.model = replace(self.model, head="free")


@dataclass
class TrainJob:
    """`train`: train, verify and publish one version into a registry."""

    train: TrainConfig = field(default_factory=TrainConfig)
    out: Path = option(Path("models"), "model registry directory; gets <version>/ and CURRENT")
    force: bool = option(
        False,
        f"publish even when the model fails the quality gate on the test split ({GATE_RULES}); the override is "
        "recorded in the card and history.jsonl",
    )
    if_missing: bool = option(False, "do nothing when the registry already has a current version (idempotent start-up)")


@dataclass
class RetrainConfig:
    """The job's options; `train.test_days` is the holdout (the newest N trading days of every series)."""

    train: TrainConfig = field(default_factory=TrainConfig)
    registry: Path = option(Path("models"), "model registry directory")
    min_improvement: float = option(
        MIN_PINBALL_IMPROVEMENT,
        "relative pinball-loss improvement over the champion needed to promote, e.g. 0.01 for 1%; the "
        "improvement must also be significant (Diebold-Mariano p < 0.05)",
        shown=f"{MIN_PINBALL_IMPROVEMENT}: strictly better, so a tie keeps the champion",
    )
    keep: int = option(5, "versions to keep; older ones are deleted, never the current one", parse=positive_int)
    force: bool = option(
        False, "retrain even with unchanged data, and promote the challenger whatever the scores (recorded)"
    )
    allow_other_series: bool = option(
        False,
        "let a challenger trained on other series than the champion (not the same files, or the same prices "
        "extended) be promoted: a change of purpose, recorded in the history; without it such a challenger is "
        "scored on both sets of series and kept out",
    )
    gate: bool = option(
        True, f"skip the quality gate that a challenger must otherwise pass on the holdout ({GATE_RULES})"
    )
    every: float | None = option(
        None,
        "run again every DURATION with a unit (24h, 30m, 1d, 90s) until stopped, as a long-lived service; "
        "at least 1h unless --allow-short-every",
        parse=duration,
        shown="once",
    )
    allow_short_every: bool = option(False, "accept an --every shorter than 1h (for tests and demos)")
    new_registry: bool = option(
        False,
        "start a new registry when --registry has no current model (a first run); without it such a --registry is "
        "refused, since a mistyped path would grow a second registry while the served one goes stale",
    )
    store: str | None = option(
        None,
        "the service's forecast store (its FORECAST_STORE: a SQLite file or a postgresql:// URL), read for the "
        "champion's live record: a series whose last 250 scored days reject its 80% or 95% coverage (Kupiec p < "
        "0.01) is a reason to retrain, and the challenger is scored on the recorded windows beside the holdout",
        shown="FORECAST_STORE, else forecasts.sqlite beside the registry when there is one",
        metavar="PATH_OR_URL",
    )


@dataclass
class TritonExport:
    """`export-triton`: which version goes where, and the config.pbtxt's batching."""

    registry: Path = option(Path("models"), "model registry")
    out: Path = option(Path("triton_models"), "repository root")
    version: str | None = option(None, "registry version to export", shown="CURRENT's")
    name: str = option(MODEL_NAME, "Triton model name")
    triton_version: int = option(1, "Triton's numeric version directory", parse=positive_int)
    max_batch: int = option(1024, "max_batch_size", parse=positive_int)
    queue_delay_us: int = option(2000, "dynamic batching max_queue_delay_microseconds", parse=positive_int)
    cpu: bool = option(False, "instance_group KIND_CPU instead of KIND_GPU")


@dataclass
class InstallDefault:
    """`install-default`: the bundled model into a registry that serves none."""

    out: Path = option(Path("models"), "model registry directory; gets <version>/ and CURRENT")
