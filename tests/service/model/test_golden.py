"""The golden check: every captured batch size and both sessions of a split runner give the trainer's forecasts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.errors import ModelError
from service.model.golden import golden_sizes
from service.model.runners import GraphRunner, SplitRunner
from service.model.sessions import SessionConfig
from tests.service.conftest import load


def test_every_captured_size_is_golden_checked(
    fake_gpu: None, model_pair: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, _, version = model_pair
    honest = GraphRunner.run

    def wrong_at_16(self: GraphRunner, x: np.ndarray) -> list[np.ndarray]:
        out = honest(self, x)
        return [a * 1.01 for a in out] if self.slot_for(len(x)).size == 16 else out

    monkeypatch.setattr(GraphRunner, "run", wrong_at_16)
    with pytest.raises(ModelError, match=r"differ from the trainer's by .* on cuda, batch 16$"):
        load(registry, version)


def test_the_golden_check_reaches_both_sessions_of_a_split_runner(model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    runner = load(registry, version, SessionConfig("cpu", 2, parallel_min_batch=8)).runners["cpu"]
    assert isinstance(runner, SplitRunner)
    assert golden_sizes(runner, 4) == [4, 8]  # the golden windows, then repeated up to the parallel size
    assert golden_sizes(runner, 20) == [7, 20]
    assert golden_sizes(runner.single, 4) == [4]
