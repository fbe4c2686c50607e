"""Windows of many lengths for training: each batch draws one length, then windows of it from the pooled series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.core.data import FeatureSeries, Split

SHORTEST_SHARE = 0.5  # half the batches read the shortest window (what most clients post), half any length
CHECKED_LENGTH = 250  # a year of prices: validation and the protocol read it beside the shortest and longest


@dataclass(frozen=True)
class WindowPool:
    """Every target of one part of the pooled series, with the prices each may read before it."""

    values: np.ndarray  # (N, F) every series' values, joined
    ends: np.ndarray  # (M,) index in values of each target: its window is values[end - length : end]
    history: np.ndarray  # (M,) prices of its own series before each target
    horizon: int

    @classmethod
    def of(cls, datasets: list[tuple[FeatureSeries, Split]], part: str, horizon: int) -> WindowPool:
        """The 'train' ([window, val_start)) or 'val' ([val_start, test_start)) targets of every series."""
        chunks, ends, history, offset = [], [], [], 0
        for series, split in datasets:
            start, stop = (split.window, split.val_start) if part == "train" else (split.val_start, split.test_start)
            targets = np.arange(start, min(stop, len(series) - horizon + 1))
            chunks.append(series.values)
            ends.append(offset + targets)
            history.append(targets)
            offset += len(series)
        return cls(np.concatenate(chunks), np.concatenate(ends), np.concatenate(history), horizon)

    def __len__(self) -> int:
        return len(self.ends)

    @property
    def longest(self) -> int:
        """The longest window any target here can read."""
        return int(self.history.max()) if len(self) else 0

    def windows(self, picks: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Windows (n, length, F) of the picked targets and their next `horizon` values of feature 0 (n, h)."""
        ends = self.ends[picks]
        x = self.values[ends[:, None] + np.arange(-length, 0)[None, :]]
        y = self.values[ends[:, None] + np.arange(self.horizon)[None, :], 0]
        return x, y

    def every(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Every target that has `length` prices before it, with its window."""
        return self.windows(np.flatnonzero(self.history >= length), length)

    def draw(self, rng: np.random.Generator, count: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """`count` random targets (without replacement where there are enough) that can read `length` prices."""
        eligible = np.flatnonzero(self.history >= length)
        picks = rng.choice(eligible, size=min(count, len(eligible)), replace=False)
        return self.windows(picks, length)


def draw_length(rng: np.random.Generator, shortest: int, longest: int) -> int:
    """The shortest length for SHORTEST_SHARE of batches, else log-uniform over [shortest, longest]."""
    if longest <= shortest or rng.random() < SHORTEST_SHARE:
        return shortest
    return round(float(np.exp(rng.uniform(np.log(shortest), np.log(longest)))))


def checked_lengths(shortest: int, longest: int) -> list[int]:
    """The shortest window, a year's (when in range) and the longest: where a model is validated and scored."""
    return sorted({shortest, longest, *([CHECKED_LENGTH] if shortest < CHECKED_LENGTH < longest else [])})
