"""Request values as the model sees them: float32, finite, positive prices, non-negative volumes."""

from __future__ import annotations

import numpy as np
import pytest

from service.api.validation import FLOAT32_LIMIT, checked_float32, checked_windows
from service.errors import InvalidInput


def where(row: int, col: int) -> str:
    return f"windows[{row}][{col}]"


def test_good_values_come_back_as_float32() -> None:
    out = checked_float32(np.array([[1.5, 2.5], [3.0, 1e30]]), "ratio", where)
    assert out.dtype == np.float32 and out.tolist() == [[1.5, 2.5], [3.0, np.float32(1e30)]]


@pytest.mark.parametrize(
    ("value", "kind", "named"),
    [
        (0.0, "ratio", "positive finite numbers"),
        (-1.0, "ratio", "positive finite numbers"),
        (1e-46, "ratio", "positive finite numbers"),  # positive, but 0 once it is float32
        (float("nan"), "ratio", "positive finite numbers"),
        (float("inf"), "level", "finite numbers"),
        (FLOAT32_LIMIT, "ratio", "positive finite numbers"),  # rounds to inf in float32
        (-0.5, "volume", "finite numbers >= 0"),
    ],
)
def test_a_bad_value_is_named_by_its_cell(value: float, kind: str, named: str) -> None:
    array = np.full((3, 4), 100.0)
    array[2, 1] = value
    with pytest.raises(InvalidInput, match=rf"windows\[2\]\[1\] is .*values must be {named}.*1 value\(s\) are not"):
        checked_float32(array, kind, where)


def test_volumes_may_be_zero_and_levels_negative() -> None:
    assert checked_float32(np.array([[0.0, 5.0]]), "volume", where).tolist() == [[0.0, 5.0]]
    assert checked_float32(np.array([[-3.0, 5.0]]), "level", where).tolist() == [[-3.0, 5.0]]


def test_the_first_bad_cell_is_named_and_all_are_counted() -> None:
    array = np.ones((2, 3))
    array[0, 2] = array[1, 0] = -1
    with pytest.raises(InvalidInput, match=r"windows\[0\]\[2\] is -1.0.*2 value\(s\) are not"):
        checked_float32(array, "ratio", where)


@pytest.mark.parametrize("value", [1e-300, 1e-46])
def test_a_price_that_float32_rounds_to_zero_is_said_to_be_one(value: float) -> None:
    array = np.full((1, 60), 100.0)
    array[0, 0] = value
    with pytest.raises(InvalidInput) as refused:
        checked_float32(array, "ratio", where)
    assert str(refused.value).startswith(
        f"windows[0][0] is {value!r}, which float32 (what the model reads) rounds to 0;"
    )
    array[0, 0] = -1.0
    with pytest.raises(InvalidInput) as refused:
        checked_float32(array, "ratio", where)
    assert "rounds to 0" not in str(refused.value)


def test_windows_of_one_length_are_one_array_and_mixed_lengths_stay_apart() -> None:
    same = checked_windows([[1.0] * 60, [2.0] * 60], lambda r, c: f"w[{r}][{c}]")
    assert isinstance(same, np.ndarray) and same.shape == (2, 60) and same.dtype == np.float32
    mixed = checked_windows([[1.0] * 60, [2.0] * 250], lambda r, c: f"w[{r}][{c}]")
    assert isinstance(mixed, list) and [len(w) for w in mixed] == [60, 250]
    with pytest.raises(InvalidInput, match=r"w\[1\]\[3\] is -1.0"):
        checked_windows([[1.0] * 60, [2.0] * 3 + [-1.0] + [2.0] * 246], lambda r, c: f"w[{r}][{c}]")
