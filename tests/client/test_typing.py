"""The client's public calls are typed: mypy sees a Forecast, a list of them, a dict and a bool, awaited or not."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api

USAGE = """
from typing import Any, assert_type
from client import AsyncForecastClient, Forecast, ForecastClient

def blocking(c: ForecastClient) -> None:
    assert_type(c.predict([1.0] * 60), Forecast)
    assert_type(c.predict_many([[1.0] * 60]), list[Forecast])
    assert_type(c.model(), dict[str, Any])
    assert_type(c.ready(), bool)

async def awaited(c: AsyncForecastClient) -> None:
    assert_type(await c.predict([1.0] * 60), Forecast)
    assert_type(await c.predict_many([[1.0] * 60]), list[Forecast])
    assert_type(await c.model(), dict[str, Any])
    assert_type(await c.ready(), bool)

def misuse(c: ForecastClient) -> None:
    c.predict([1.0] * 60).forecast.upper()
"""


def test_mypy_sees_each_calls_return_type(tmp_path: Path) -> None:
    usage = tmp_path / "usage.py"
    usage.write_text(textwrap.dedent(USAGE))
    out, _, status = api.run([str(usage), "--no-incremental", "--cache-dir", str(tmp_path / "cache")])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1 and '"float" has no attribute "upper"' in errors[0], out  # only the planted misuse
    assert status == 1
