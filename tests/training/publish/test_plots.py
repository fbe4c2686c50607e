"""PNG plots of a test period: real PNG files, with or without the interval band."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from tests.conftest import ROOT
from training.publish.plots import plot_calibration, plot_test_period
from training.scoring.holdout import BASELINES

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_test_period_plot_is_a_png_with_or_without_a_band(tmp_path: Path) -> None:
    dates = np.arange("2018-01-01", "2018-03-01", dtype="datetime64[D]")
    actual = 100 + np.cumsum(np.random.default_rng(0).normal(0, 1, len(dates)))
    naive = np.concatenate([[actual[0]], actual[:-1]])
    for band, name in ((None, "plain.png"), ((actual - 2, actual + 2), "band.png")):
        plot_test_period(dates, actual, naive + 0.1, naive, tmp_path / name, "a test period", band=band)
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG and len(data) > 5_000
    assert (tmp_path / "plain.png").read_bytes() != (tmp_path / "band.png").read_bytes()


def test_the_calibration_plot_is_a_png(tmp_path: Path) -> None:
    levels = [0.025, 0.1, 0.5, 0.9, 0.975]
    plot_calibration(levels, {"model": levels, "naive + FHS": [0.03, 0.12, 0.5, 0.88, 0.97]}, tmp_path / "c.png", "t")
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG


def test_the_pages_alt_text_names_every_line_of_the_calibration_plot() -> None:
    """The plot draws the model and every interval baseline the test split scores; the page's description of it
    (for a screen reader) must name them all."""
    page = (ROOT / "service" / "api" / "static" / "index.html").read_text()
    alt = re.search(r'id="plot-calibration"[^>]*alt="([^"]+)"', page, re.S)
    assert alt is not None
    for name in ("model", *(b.removeprefix("naive + ").split()[0] for b in BASELINES)):
        assert name in alt.group(1), f"{name} is drawn but not described"
