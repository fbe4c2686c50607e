"""PNG plots of forecasts against what happened."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers or in CI
import matplotlib.pyplot as plt
import numpy as np


def plot_test_period(
    dates: np.ndarray,
    actual: np.ndarray,
    forecast: np.ndarray,
    naive: np.ndarray,
    path: Path,
    title: str,
    band: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Actual prices, the model's forecasts (and 80% band) and naive persistence over the test period."""
    fig, ax = plt.subplots(figsize=(11, 5), dpi=100)
    days = dates.astype("datetime64[D]").astype(object)
    if band is not None:
        ax.fill_between(days, band[0], band[1], color="tab:blue", alpha=0.15, label="80% interval")
    ax.plot(days, actual, color="black", linewidth=1.4, label="actual")
    ax.plot(days, forecast, color="tab:blue", linewidth=1.0, label="model forecast")
    ax.plot(
        days,
        naive,
        color="tab:orange",
        linewidth=1.0,
        linestyle="--",
        label="naive (tomorrow = today)",
    )
    ax.set_title(title)
    ax.set_ylabel("price")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
