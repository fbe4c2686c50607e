"""CSV loading in every supported shape, clean-up, and the chronological split without leakage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.core.csvfile import load_csv
from training.core.data import chronological_split, make_windows
from training.core.errors import DataError


def test_too_short_file_is_an_error(tmp_path: Path) -> None:
    rows = "".join(f"2020-01-{d:02d},{d}\n" for d in range(1, 29))
    (tmp_path / "prices.csv").write_text("Date,Close\n" + rows)
    series = load_csv(tmp_path / "prices.csv")
    with pytest.raises(DataError, match=r"28 prices, need at least"):
        chronological_split(series, window=60, val_days=250, test_days=250)


def test_split_and_windows_never_leak(sp500_small: Path) -> None:
    series = load_csv(sp500_small)
    split = chronological_split(series, window=60, val_days=50, test_days=50)
    assert (split.val_start, split.test_start, split.n) == (300, 350, 400)
    x, y, targets = make_windows(series.prices, 60, 60, split.val_start)
    # every training input and target lies strictly before the validation period
    assert targets.max() == split.val_start - 1
    assert targets.min() == 60
    np.testing.assert_array_equal(x[-1], series.prices[split.val_start - 61 : split.val_start - 1])
    np.testing.assert_array_equal(y[:, 0], series.prices[targets])
    xt, _, tt = make_windows(series.prices, 60, split.test_start, split.n)
    assert tt.tolist() == list(range(350, 400))
    np.testing.assert_array_equal(xt[0], series.prices[290:350])
