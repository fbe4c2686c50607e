"""Point-forecast metrics, always scored next to naive persistence (tomorrow = today)."""

from __future__ import annotations

import numpy as np


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(actual - forecast)))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute percentage error, in percent."""
    return float(np.mean(np.abs((actual - forecast) / actual)) * 100.0)


def directional_accuracy(last: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> float | None:
    """Share of days where the forecast's move from the last price has the actual move's sign.

    Days without an actual move are left out; None when the forecast never predicts a move
    (naive persistence), since its direction is undefined rather than always wrong.
    """
    predicted, moved = np.sign(forecast - last), np.sign(actual - last)
    keep = moved != 0
    if not np.any(predicted[keep] != 0):
        return None
    return float(np.mean(predicted[keep] == moved[keep]))


def score(last: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> dict[str, float | None]:
    """MAE, RMSE, MAPE and directional accuracy of one forecast."""
    return {
        "mae": mae(actual, forecast),
        "rmse": rmse(actual, forecast),
        "mape": mape(actual, forecast),
        "directional_accuracy": directional_accuracy(last, actual, forecast),
    }


def compare_with_naive(last: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> dict[str, object]:
    """The model's and naive persistence's scores on the same days, and the model/naive MAE ratio."""
    model, naive = score(last, actual, forecast), score(last, actual, last)
    moved = actual != last
    return {
        "days": len(actual),
        "model": model,
        "naive": naive,
        "mae_ratio": float(model["mae"] / naive["mae"]) if naive["mae"] else None,
        "up_share": float(np.mean(actual[moved] > last[moved])) if moved.any() else None,
    }


def format_table(metrics: dict[str, object]) -> str:
    """The comparison as a small text table."""

    def cell(value: float | None, fmt: str) -> str:
        width = int(fmt.split(".")[0] or 0)
        return f"{'n/a':>{width}}" if value is None else format(value, fmt)

    lines = [f"{'':8}{'MAE':>11}{'RMSE':>11}{'MAPE %':>9}{'dir. acc.':>11}"]
    for name in ("model", "naive"):
        m = metrics[name]
        lines.append(
            f"{name:8}{cell(m['mae'], '11.3f')}{cell(m['rmse'], '11.3f')}{cell(m['mape'], '9.3f')}"
            f"{cell(m['directional_accuracy'], '11.3f')}"
        )
    lines.append(
        f"MAE ratio model/naive: {cell(metrics['mae_ratio'], '.4f')}   "
        f"share of up days: {cell(metrics['up_share'], '.3f')}   days: {metrics['days']}"
    )
    return "\n".join(lines)
