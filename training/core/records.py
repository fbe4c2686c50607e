"""The shapes of what the trainer writes: score tables, history records and the model card (model.json)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

import numpy as np


class PointScores(TypedDict):
    """One point forecast scored against the actual prices."""

    mae: float
    rmse: float
    mape: float
    directional_accuracy: float | None


class CoverageTest(TypedDict):
    """One central interval: coverage, Kupiec's and Christoffersen's p-values, widths."""

    level: float
    coverage: float
    mean_width: float
    violations: int
    n: int
    uc_p_value: float
    ind_p_value: float
    mean_width_pct: NotRequired[float]  # with the last prices known: in % of them
    winkler_pct: NotRequired[float]


# "pinball" (and "pinball_pct" in % of price) -> float; "coverage_<pct>" -> CoverageTest for every central
# interval the quantile levels allow (coverage_80 and coverage_95 for the default levels). Keys that depend
# on the levels cannot be TypedDict fields.
IntervalScores = dict[str, Any]


class ScoreRow(PointScores):
    """One forecaster's row of a holdout table; interval forecasters add intervals and calibration."""

    intervals: NotRequired[IntervalScores]
    calibration: NotRequired[list[float]]  # share of actual prices at or below each quantile
    pinball_by_day: NotRequired[np.ndarray]  # for Diebold-Mariano tests; dropped before JSON


ScoreTable = dict[str, ScoreRow]  # forecaster name -> row, all scored on the same days
# The card's metrics.test: days, series, mae_ratio, dm_pinball_vs_garch_t, mae_by_step (multi-day models),
# and one ScoreRow per forecaster name (model, naive, the interval baselines).
TestMetrics = dict[str, Any]
# The walk-forward's scores: segment name ("walk_forward", "holdout", ...) -> Segment, where a Segment holds
# "days" and one row per forecaster (point scores, intervals, DM tests against the model).
Segment = dict[str, Any]
BacktestScores = dict[str, Segment]
CheckResults = dict[str, Any]  # the cross-asset, synthetic and out-of-range checks, by name
# One line of <registry>/history.jsonl: time, decision, reason, forced, versions, and for a retrain round the
# holdout, its ScoreTable and the Diebold-Mariano test.
HistoryRecord = dict[str, Any]


class NaiveComparison(TypedDict):
    """A model next to naive persistence on the same days (the walk-forward's segments)."""

    days: int
    model: PointScores | ScoreRow
    naive: PointScores | ScoreRow
    mae_ratio: float | None
    up_share: NotRequired[float | None]
    series: NotRequired[list[str]]
    intervals: NotRequired[IntervalScores]


class DMTest(TypedDict):
    """Diebold-Mariano: negative statistic = the first forecaster is more accurate."""

    statistic: float
    p_value: float
    mean_loss_difference: float


class DataRecord(TypedDict):
    """One training file: name, hash, date range and where its splits begin."""

    file: str
    sha256: str
    column: str
    start: str
    end: str
    rows: int
    train_end: str
    validation_start: str
    test_start: str


class GoldenWindow(TypedDict):
    """A window and torch's answers to it, re-checked by every server at load."""

    window: list[Any]
    forecast: list[float] | float
    quantiles: list[Any]


class QualityGate(TypedDict, total=False):
    passed: bool
    forced: bool
    problems: list[str]
    rules: list[str]  # the gate in words, one rule per window length gated


class ModelCard(TypedDict, total=False):
    """model.json: everything a server or a person needs to know about one version."""

    format: str  # "lstm-forecast/<major>"; servers refuse a major they do not know
    version: str
    window: int  # the shortest window, as fixed-window readers expect
    min_window: int
    max_window: int
    horizon: int
    features: list[str]
    quantiles: list[float]
    interval_coverage: dict[str, float]
    inputs: dict[str, list[Any]]
    outputs: dict[str, list[Any]]
    normalization: dict[str, Any]  # kind, feature_kinds and the kind's own parameters
    calibration: dict[str, Any]
    architecture: dict[str, Any]
    volatility_filter: dict[str, Any] | None  # the residual head's filter mixture: every filter's parameters
    window_table: dict[str, Any] | None  # the residual head's blend of each window's own table: its prior count k
    training: dict[str, Any]  # data: list[DataRecord], options and epochs
    metrics: dict[str, TestMetrics]
    created: str
    torch_version: str
    onnx_version: str
    python_version: str
    quality_gate: QualityGate
    parity_max_rel_diff: float
    golden: list[GoldenWindow]
    onnx_sha256: str
    history: list[dict[str, float]]
    promotion: dict[str, Any]
