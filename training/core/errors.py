"""Errors the CLI turns into one line and an exit code, torch-free: bad input, a failed export, a refused gate."""

from __future__ import annotations


class DataError(Exception):
    """A problem with an input file, said in one line that names the file, row and column."""


class ExportError(Exception):
    """The exported graph disagrees with the torch model, or could not be written; nothing is published."""


class GateRefused(Exception):
    """A model failed the quality gate; nothing was published."""

    def __init__(self, problems: list[str], summary: list[str] | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.summary = summary or []  # the scores the gate judged, for the caller to show
