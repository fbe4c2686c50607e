"""What the ledger keeps of a forecast: the keys that find a series' next day, names and prices checked."""

from __future__ import annotations

import numpy as np
import pytest

from service.ledger.records import checked_name, checked_price, head_key, packed, tail_key, unpacked
from tests.service.ledger.conftest import path, record


def test_consecutive_windows_share_a_key_and_nothing_else_does() -> None:
    prices = path(200)
    today, tomorrow = prices[100:160], prices[101:161]
    assert tail_key(today) == head_key(tomorrow)
    assert tail_key(today) != head_key(prices[102:162]) and tail_key(today) != head_key(today)
    longer = prices[11:161]  # a 150-price window of the same series, same next day: the same key
    assert head_key(longer) == head_key(tomorrow)
    assert tail_key(prices[100:130]) == head_key(prices[101:131])  # a model with a short window keys on fewer


def test_keys_read_prices_as_float32_as_the_model_does() -> None:
    window = path(60).astype(np.float64)
    assert tail_key(window) == tail_key(window.astype(np.float32))
    nudged = window.copy()
    nudged[-1] *= 1 + 1e-12  # below float32's resolution: the same price for the model
    assert tail_key(nudged) == tail_key(window)


def test_a_record_knows_its_last_price_and_keys() -> None:
    prices = path(100)
    found = record(prices, 80)
    assert found.last == float(prices[79]) and found.tail == tail_key(prices[20:80])


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "non-empty"),
        ("x" * 201, "201 characters; at most 200"),
        ("a\nb", "control character"),
        (7, "non-empty"),
        ("a\ud800b", "unpaired surrogate"),
    ],
)
def test_a_bad_series_name_says_what_is_wrong(name: object, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        checked_name(name, "series")


def test_a_good_name_is_kept_as_given() -> None:
    assert checked_name("S&P 500 (adj.)", "series") == "S&P 500 (adj.)"


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), 1e39, "2510", True, None])
def test_a_realised_price_must_be_a_positive_finite_number(value: object) -> None:
    with pytest.raises(ValueError, match="price"):
        checked_price(value, "price")


def test_a_realised_price_is_read_as_float32() -> None:
    assert checked_price(2510.03, "price") == float(np.float32(2510.03)) and checked_price(7, "price") == 7.0


def test_quantiles_are_stored_exactly() -> None:
    values = (0.1, 1 / 3, 2510.0300000001)
    assert unpacked(packed(values)) == values
