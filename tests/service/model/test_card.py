"""model.json read as untrusted input: every part the service relies on is checked, with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.errors import ModelError
from service.model.card import check_format, feature_kinds, read_card, read_signature

VERSION = "v1"


def write_card(tmp_path: Path, card: Any) -> Path:
    (tmp_path / "model.json").write_text(card if isinstance(card, str) else json.dumps(card))
    return tmp_path


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ("{not json", "model.json is not valid JSON"),
        ([1, 2], "model.json is not a JSON object"),
        ({"version": "v2", "window": 60}, "model.json names version 'v2', not 'v1'"),
        ({"version": VERSION, "window": True}, "no valid window length"),
        ({"version": VERSION, "window": 0}, "no valid window length"),
    ],
)
def test_a_bad_card_is_refused_with_its_reason(tmp_path: Path, card: Any, reason: str) -> None:
    with pytest.raises(ModelError, match=reason):
        read_card(write_card(tmp_path, card), VERSION)


def test_a_missing_card_and_a_good_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"model\.json is missing"):
        read_card(tmp_path, VERSION)
    assert read_card(write_card(tmp_path, {"version": VERSION, "window": 60}), VERSION)["window"] == 60


def test_the_signature_and_its_defaults() -> None:
    assert read_signature({}) == {"features": ["close"], "horizon": 1, "quantiles": []}
    good = {"features": ["close", "volume"], "horizon": 5, "quantiles": [0.1, 0.5, 0.9]}
    assert read_signature(good) == good
    for bad, reason in (
        ({"features": []}, "features must be a list of names"),
        ({"horizon": 101}, "horizon must be 1..100"),
        ({"quantiles": [0.5, 1.0]}, "quantiles must be levels in"),
        ({"quantiles": [0.9, 0.5]}, "sorted and include 0.5"),
        ({"quantiles": [0.1, 0.9]}, "sorted and include 0.5"),
    ):
        with pytest.raises(ModelError, match=reason):
            read_signature(bad)


def test_formats_this_service_reads() -> None:
    for fmt in ("lstm-forecast/1", "lstm-forecast/1.4"):
        check_format({"format": fmt})
    check_format({})  # older cards name no format
    with pytest.raises(ModelError, match="major version 2"):
        check_format({"format": "lstm-forecast/2.0"})
    with pytest.raises(ModelError, match="is not a lstm-forecast model card"):
        check_format({"format": "other/1"})


def test_feature_kinds() -> None:
    assert feature_kinds({}, ["close"]) == ["ratio"]  # the minmax model's one price
    card = {"normalization": {"feature_kinds": ["ratio", "volume"]}}
    assert feature_kinds(card, ["close", "volume"]) == ["ratio", "volume"]
    with pytest.raises(ModelError, match="one of"):
        feature_kinds(card, ["close"])
    with pytest.raises(ModelError, match="one of"):
        feature_kinds({"normalization": {"feature_kinds": ["ratio", "price"]}}, ["close", "x"])
