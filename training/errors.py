"""Errors of the export step that the CLI turns into exit codes, importable without torch."""

from __future__ import annotations


class ExportError(Exception):
    """The exported graph disagrees with the torch model, or could not be written; nothing is published."""
