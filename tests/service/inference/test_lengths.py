"""Windows of mixed lengths in one request: grouped by length, answered back in the request's order."""

from __future__ import annotations

import numpy as np

from service.inference.lengths import by_length, merged, subset
from service.inference.recording import Asked, Kept


def test_groups_are_by_length_shortest_first_in_request_order() -> None:
    windows = [np.ones(n, np.float32) for n in (250, 60, 1000, 60, 250)]
    assert by_length(windows) == [[1, 3], [0, 4], [2]]


def test_kept_answers_go_back_to_their_positions() -> None:
    groups = [[1, 3], [0, 2]]
    back = np.argsort(np.concatenate(groups), kind="stable")
    parts = [
        Kept(["b", "d"], np.array([[[1.0]], [[3.0]]]), [{"k": 1.0}, {"k": 3.0}]),
        Kept(["a", "c"], np.array([[[0.0]], [[2.0]]]), [{"k": 0.0}, {"k": 2.0}]),
    ]
    kept = merged(back, parts)
    assert kept.ids == ["a", "b", "c", "d"]
    assert kept.quantiles[:, 0, 0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert kept.factors == [{"k": 0.0}, {"k": 1.0}, {"k": 2.0}, {"k": 3.0}]
    unrecorded = merged(back, [Kept(None, p.quantiles, None) for p in parts])
    assert unrecorded.ids is None and unrecorded.factors is None


def test_a_group_carries_what_the_request_said_about_its_windows() -> None:
    asked = Asked(["x", "y", "z"], ["2020-01-02", None, "2020-01-03"], ["2020-01-03", None, "2020-01-06"])
    assert subset(asked, [2, 0]) == Asked(["z", "x"], ["2020-01-03", "2020-01-02"], ["2020-01-06", "2020-01-03"])
