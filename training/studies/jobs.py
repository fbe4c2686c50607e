"""The studies' job configurations: what each report command reads, its defaults and help written once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from training.core.config import TrainConfig
from training.core.data import BUNDLED_DATA
from training.core.options import named_path, named_paths, non_negative_int, option, positive_int


@dataclass
class BacktestConfig:
    """The backtest's period and refit schedule, and the model variants compared."""

    train: TrainConfig = field(default_factory=TrainConfig)
    years: float = option(2.0, "walk-forward period before the final hold-out, in years of 252 days")
    holdout_days: int = option(250, "final hold-out: the newest days, reported on their own", parse=positive_int)
    refit_every: int = option(126, "K: trading days between refits", parse=positive_int)
    fine_tune_epochs: int = option(4, "epochs of fine-tuning at each later refit", parse=positive_int)
    variants: dict[str, TrainConfig] = field(default_factory=dict)  # name -> config, besides "model"


@dataclass
class Checks:
    """The checks beside the walk-forward: another series, out-of-range prices, synthetic assets."""

    cross: Path | None = option(
        BUNDLED_DATA / "nasdaq.csv.gz",
        "a second series for the cross-asset check and the multivariate variant",
        shown="bundled NASDAQ",
    )
    oor_train_end: str = option(
        "2012-12-31",
        "out-of-range check: train up to this date, score where prices top the training maximum; empty to skip",
    )
    synthetic: bool = option(True, "skip the three simulated GARCH(1,1)-t assets (0.5%, 1.5% and 3% daily volatility)")


@dataclass
class EvaluateJob:
    """`evaluate`: the backtest, the checks, and where the report goes."""

    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    checks: Checks = field(default_factory=Checks)
    name: str | None = option(None, "report name", shown="sp500, or loo with --leave-one-out")
    out: Path = option(Path("reports"), "report directory")
    variants: bool = option(True, "score the model and the baselines only")
    readme: Path | None = option(
        None, "also update the generated report block of this markdown page (docs/model.md)", shown="no page"
    )
    leave_one_out: bool = option(
        False,
        "instead of the walk-forward: train without each --data series in turn and score it on its newest "
        "days (at most 2,500), and the held-out simulated assets with the model trained on all; next to FHS, "
        "GARCH(1,1)-t, GJR-GARCH-skew-t and EWMA",
    )
    jobs: int = option(
        0, "folds trained side by side (one thread each)", parse=non_negative_int, shown="0: one per CPU"
    )

    @property
    def report_name(self) -> str:
        """The name given, or the protocol's own: sp500 (walk-forward) or loo."""
        return self.name or ("loo" if self.leave_one_out else "sp500")


@dataclass
class WindowLimitJob:
    """`window-limit`: the held-out simulated assets' own model, reading only the posted window."""

    out: Path = option(Path("reports"), "report directory: window_limit.md (simple methods cached in <out>/.cache)")


@dataclass
class FamilyReaderJob:
    """`family-reader`: every leave-one-asset-out series read by a Bayes reader that knows only the model family."""

    out: Path = option(
        Path("reports"), "report directory: family_reader[_w<window>].md (simple methods cached in <out>/.cache)"
    )
    window: int = option(60, "prices the reader reads before each day (2-120; FHS reads as many)", parse=positive_int)


@dataclass
class AblationJob:
    """`ablation`: the default and one change at a time, each through the leave-one-asset-out protocol."""

    train: TrainConfig = field(default_factory=TrainConfig)
    out: Path = option(Path("reports"), "report directory: ablation.md and ablation.json")
    readme: Path | None = option(
        None, "also update the generated ablation block of this markdown page (docs/model.md)", shown="no page"
    )
    jobs: int = option(
        0, "folds trained side by side (one thread each)", parse=non_negative_int, shown="0: one per CPU"
    )
    rows: list[str] = option(
        factory=list,
        help="measure only this row (by its name in the report; repeat it for several) and keep the report's other "
        "rows as they are",
        flag="--row",
        metavar="NAME",
        repeat=True,
        shown="every row",
    )
    from_reports: dict[str, Path] = named_paths(
        "take this row's numbers from a leave-one-asset-out report of its model (reports/loo.json holds the "
        "default's) instead of training its folds again; the report must match the row's lengths, series and "
        "architecture; repeatable, and such rows are measured with the --row ones",
        parse=named_path,
        flag="--from-report",
        shown="train every row",
    )
