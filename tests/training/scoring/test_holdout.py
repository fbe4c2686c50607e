"""The test split's per-series verdicts: the best simple method, the ratio to it, and the gate's DM tests."""

from __future__ import annotations
