"""What the store did, as the metrics count it: one write's (or one POST /outcomes') recorded, scored and unmatched
forecasts summed into counter increments where the work was done, and added by the server to its metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np

from service.ledger import calibration
from service.ledger.calibration import central_intervals
from service.ledger.matching import Scored, Written

OTHER = "other"  # the metrics' series label beyond the busiest ones
Increments = Counter[tuple[str, ...]]  # (metric, *labels) -> the amount to add
Label = Callable[[str], str]  # a series -> its metrics label (its name, or 'other')


def tally_written(written: Written, label: Label) -> Increments:
    """One write: recorded by model and series, duplicates and unmatched by reason, and what it scored."""
    found: Increments = Counter()
    for model, series in written.recorded:
        found["recorded", model, label(series)] += 1
    if written.duplicates:
        found["unmatched", "duplicate_forecast"] += written.duplicates
    for reason, count in written.unmatched.items():
        found["unmatched", reason] += count
    return found + tally_scored(written.scored, label)


def tally_scored(scored: Iterable[Scored], label: Label) -> Increments:
    """Scored forecasts by model, series and source; pinball sums by level; misses by interval and side."""
    found: Increments = Counter()
    groups: dict[tuple[str, str, str, tuple[float, ...]], list[Scored]] = {}
    for one in scored:
        groups.setdefault((one.model, label(one.chain), one.source, one.levels), []).append(one)
    for (model, series, source, levels), members in groups.items():
        found["scored", model, series, source] += len(members)
        outcome = np.array([m.outcome for m in members])
        served = np.array([m.served for m in members])
        losses = calibration.pinball(outcome, np.array([m.last for m in members]), served, levels).sum(axis=0)
        for level, loss in zip(levels, losses.tolist(), strict=True):
            found["pinball", model, series, f"{level:g}"] += loss
        for interval, (low, high) in central_intervals(levels).items():
            for side, missed in (("below", outcome < served[:, low]), ("above", outcome > served[:, high])):
                if missed.any():
                    found["misses", model, series, interval, side] += int(missed.sum())
    return found
