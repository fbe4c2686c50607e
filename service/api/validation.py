"""Request values as the model will see them: float32, finite, and positive where they are prices."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from service.errors import InvalidInput

# float64 values that float32 holds as finite: under 2**128 - 2**103 (from there the cast rounds to inf).
FLOAT32_LIMIT = 2.0**128 - 2.0**103
# Magnitudes at or under half float32's smallest subnormal become (-)0 in float32.
FLOAT32_ZERO = float(np.finfo(np.float32).smallest_subnormal) / 2
# kind -> (lower bound, whether the bound itself is allowed), as the float32 values will see it
LOWEST = {"ratio": (FLOAT32_ZERO, False), "volume": (-FLOAT32_ZERO, True), "level": (-FLOAT32_LIMIT, False)}


def checked_float32(array: np.ndarray, kind: str, where: Callable[[int, int], str]) -> np.ndarray:
    """float32 values (what the model sees); prices must be positive, volumes >= 0, all finite in float32."""
    # Two reductions decide the common case; NaN propagates into both and fails every comparison.
    lo, hi = float(array.min()), float(array.max())
    bound, inclusive = LOWEST.get(kind, LOWEST["level"])
    if (lo >= bound if inclusive else lo > bound) and hi < FLOAT32_LIMIT:
        return array.astype(np.float32)
    bad = ~((array >= bound if inclusive else array > bound) & (array < FLOAT32_LIMIT))
    row, col = (int(i) for i in np.argwhere(bad)[0])
    rule = {"ratio": "positive finite numbers", "volume": "finite numbers >= 0"}.get(kind, "finite numbers")
    value = float(array[row, col])
    tiny = ", which float32 (what the model reads) rounds to 0" if 0 < abs(value) <= FLOAT32_ZERO else ""
    raise InvalidInput(
        f"{where(row, col)} is {value!r}{tiny}; values must be {rule} (below 3.4e38); {int(bad.sum())} value(s) are not"
    )


def checked_windows(rows: list[list[float]], where: Callable[[int, int], str]) -> np.ndarray | list[np.ndarray]:
    """Windows of positive prices as float32: one (n, T) array when they share a length (checked in one pass),
    else one (T,) array each; `where(row, column)` names a bad value."""
    if all(len(row) == len(rows[0]) for row in rows):
        return checked_float32(np.asarray(rows, dtype=np.float64), "ratio", where)
    return [checked_row(row, i, where) for i, row in enumerate(rows)]


def checked_row(row: list[float], i: int, where: Callable[[int, int], str]) -> np.ndarray:
    """Window i alone, its bad values named as row i."""

    def cell(_: int, column: int) -> str:
        return where(i, column)

    return checked_float32(np.asarray([row], dtype=np.float64), "ratio", cell)[0]
