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


def plot_calibration(levels: list[float], shares: dict[str, list[float]], path: Path, title: str) -> None:
    """Share of actual prices at or below each quantile, per method, against the diagonal."""
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for name, values in shares.items():
        ax.plot(levels, values, marker="o", label=name)
    ax.set_xlabel("nominal quantile level")
    ax.set_ylabel("share of actual prices at or below that quantile")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
