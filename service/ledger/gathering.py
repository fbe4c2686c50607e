"""Answers of one kind (model, level list, window length, adapted or not) joined as requests hand them over, so that
a batch crosses to the writer process as a few arrays, not as many small ones."""

from __future__ import annotations

from collections.abc import MutableSequence

import numpy as np

from service.ledger.records import Answers


class Gathering:
    """Answers of one kind (model, level list, window length, adapted or not) as requests hand them over: their
    lists extended as they come, a microsecond a request, so that a batch is joined in a few array copies."""

    def __init__(self, first: Answers) -> None:
        self.model, self.levels, self.length = first.model, first.levels, first.prices.shape[1]
        self.adapted = first.raw is not None
        self.ids: list[str] = []
        self.names: list[str] = []
        self.as_of: list[str | None] = []
        self.target: list[str | None] = []
        self.created: list[float] = []
        self.prices: list[np.ndarray] = []
        self.served: list[np.ndarray] = []
        self.raw: list[np.ndarray] = []
        self.factors: list[dict[str, float]] | None = None if first.factors is None else []
        self.count = 0
        self.add(first)

    def fits(self, answers: Answers) -> bool:
        return (
            answers.model == self.model
            and answers.levels == self.levels
            and answers.prices.shape[1] == self.length
            and (answers.raw is not None) == self.adapted
            and (answers.factors is None) == (self.factors is None)
        )

    def add(self, answers: Answers) -> None:
        self.ids += answers.ids
        self.names += answers.names
        self.as_of += answers.as_of
        self.target += answers.target
        self.created += answers.created
        self.prices.append(answers.prices)
        self.served.append(answers.served)
        if answers.raw is not None:
            self.raw.append(answers.raw)
        if self.factors is not None and answers.factors is not None:
            self.factors += answers.factors
        self.count += len(answers.ids)

    def answers(self) -> Answers:
        """Everything gathered, as one Answers."""
        raw = np.concatenate(self.raw) if self.adapted else None
        prices, served = np.concatenate(self.prices), np.concatenate(self.served)
        lists = (self.ids, self.names, self.as_of, self.target)
        return Answers(*lists, self.model, self.created, prices, self.levels, served, raw, self.factors)


def gather(gatherings: MutableSequence[Gathering], answers: Answers, limit: int) -> None:
    """answers joined to the last gathering when they fit it and it holds fewer than `limit`, else a new one."""
    last = gatherings[-1] if gatherings else None
    if last is not None and last.count < limit and last.fits(answers):
        last.add(answers)
    else:
        gatherings.append(Gathering(answers))
