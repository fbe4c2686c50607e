"""The golden check: a loaded model must give the trainer's own forecasts for its reference windows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from service.errors import ModelError, first_line
from service.model.runners import GraphRunner, Runner, SplitRunner

if TYPE_CHECKING:  # the Forecaster module calls this one at load time
    from service.model.forecaster import Forecaster

GOLDEN_RTOL = 1e-4


Golden = tuple[np.ndarray, np.ndarray, np.ndarray]  # windows (n, T[, F]), forecasts (n, h), quantiles (n, h, Q)


def golden_arrays(forecaster: Forecaster) -> list[Golden]:
    """The trainer's reference windows with its forecasts and quantiles from model.json, one set per length."""
    golden = forecaster.card.get("golden")
    if not isinstance(golden, list) or not golden:
        raise ModelError("model.json has no golden reference windows")
    try:
        lengths = sorted({len(g["window"]) for g in golden})
        return [golden_set([g for g in golden if len(g["window"]) == n], forecaster) for n in lengths]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ModelError("model.json golden references are malformed") from None


def golden_set(golden: list[dict], forecaster: Forecaster) -> Golden:
    """The golden windows of one length as arrays, of a shape the model reads."""
    n, h = len(golden), forecaster.horizon
    windows = np.array([g["window"] for g in golden], dtype=np.float32)
    expected = np.array([g["forecast"] for g in golden], dtype=np.float64).reshape(n, h)
    expected_q = np.array([g.get("quantiles", []) for g in golden], dtype=np.float64).reshape(n, h, -1)
    features = () if forecaster.univariate else (len(forecaster.features),)
    if windows.ndim < 2 or not forecaster.reads(windows.shape[1]) or windows.shape[2:] != features:
        raise ModelError(
            f"golden windows have shape {windows.shape}; the model reads (n, {forecaster.lengths()}"
            f"{''.join(f', {f}' for f in features)})"
        )
    return windows, expected, expected_q


def check_outputs(forecaster: Forecaster) -> None:
    """On every device, at every captured batch size and every golden length, torch's forecasts (1e-4)."""
    for windows, expected, expected_q in golden_arrays(forecaster):
        for device, runner in forecaster.runners.items():
            sizes = golden_sizes(runner, len(windows))
            for size in sizes:
                rows = np.arange(size) % len(windows)  # the golden windows repeated to fill the batch
                where = device if len(sizes) == 1 else f"{device}, batch {size}"
                check_golden(forecaster, device, windows[rows], expected[rows], expected_q[rows], where)


def golden_sizes(runner: Runner, golden: int) -> list[int]:
    """The batch sizes that reach each of a runner's sessions (or captured graphs) with the golden windows."""
    if isinstance(runner, GraphRunner):
        return [s.size for s in runner.slots]
    if isinstance(runner, SplitRunner):
        return sorted({min(golden, runner.parallel_from - 1), max(golden, runner.parallel_from)})
    return [golden]


def check_golden(
    forecaster: Forecaster, device: str, windows: np.ndarray, expected: np.ndarray, expected_q: np.ndarray, where: str
) -> None:
    """One golden run on one device: finite, the right number of quantiles, within GOLDEN_RTOL."""
    q = len(forecaster.quantiles)
    try:
        got, got_q = forecaster.predict(windows, device)
    except Exception as exc:  # any onnxruntime failure here means the model is unusable
        raise ModelError(f"warm-up run failed ({where}): {first_line(exc)}") from None
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(got_q))):
        raise ModelError(f"warm-up run gave non-finite forecasts ({where})")
    if got_q.shape[-1] != q or (q and expected_q.shape != got_q.shape):
        raise ModelError(f"quantiles output has {got_q.shape[-1]} levels; model.json lists {q}")
    rel = max(relative_difference(got, expected), relative_difference(got_q, expected_q) if q else 0.0)
    if rel > GOLDEN_RTOL:
        suffix = "" if where == "cpu" else f" on {where}"
        raise ModelError(f"golden check failed: forecasts differ from the trainer's by {rel:.3g} relative{suffix}")


def relative_difference(got: np.ndarray, expected: np.ndarray) -> float:
    """Largest |got - expected| / |expected|."""
    return float(np.max(np.abs(got.astype(np.float64) - expected) / np.maximum(np.abs(expected), 1e-12)))
