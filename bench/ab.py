"""A/B of two source trees of the service on one model: interleaved runs (A, B, A, B, ...), medians and ratios.

    git worktree add /tmp/before <ref>
    python -m bench.ab --a /tmp/before --b . --models models

Each repeat starts the service from A, then from B, and measures a single window at 32 connections (requests/s)
and at 1 connection (p50 ms), with make bench's own runner. Same machine, same minutes: the ratio B/A is what a
change did, where two separate `make bench` runs would differ by the machine's drift.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from bench.bodies import predict_body
from bench.run import Target, http_runs, service_env

LOADS = (
    ("single window, 32 connections, req/s", 32, "rps"),
    ("single window, 1 connection, p50 ms", 1, "p50_ms"),
)


def tree_target(label: str, tree: Path, models: Path, settings: dict[str, str]) -> Target:
    """The service as imported from `tree` (-P: the working directory does not come first on sys.path)."""
    env = {**service_env(models.resolve(), **settings), "PYTHONPATH": str(tree.resolve())}
    connections = tuple(c for _, c, _ in LOADS)
    return Target(
        label, [sys.executable, "-P", "-m", "service"], body=predict_body(None), env=env, connections=connections
    )


def ab(
    a: Path, b: Path, models: Path, pairs: int, seconds: float, settings: dict[str, str]
) -> dict[str, dict[str, list[float]]]:
    """{"a"|"b": {load: [value per repeat]}}."""
    runs = http_runs(
        [tree_target(label, tree, models, settings) for label, tree in (("a", a), ("b", b))], seconds, pairs
    )
    return {label: {name: [r[key] for r in runs[label][c]] for name, c, key in LOADS} for label in runs}


def table(runs: dict[str, dict[str, list[float]]]) -> str:
    lines = [
        "| load | A (median) | B (median) | B / A | median of pair ratios | A runs | B runs |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, _, _ in LOADS:
        a, b = runs["a"][name], runs["b"][name]
        ma, mb = statistics.median(a), statistics.median(b)
        paired = statistics.median(y / x for x, y in zip(a, b, strict=True))
        shown = ", ".join
        lines.append(
            f"| {name} | {ma:,.2f} | {mb:,.2f} | {mb / ma:.3f} | {paired:.3f} | {shown(f'{v:,.2f}' for v in a)} | "
            f"{shown(f'{v:,.2f}' for v in b)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", type=Path, required=True, help="source tree A (the code before)")
    parser.add_argument("--b", type=Path, default=Path("."), help="source tree B (default: this one)")
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--set", action="append", default=[], metavar="FORECAST_X=VALUE", help="for both trees")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    print(table(ab(args.a, args.b, args.models, args.pairs, args.seconds, settings)))


if __name__ == "__main__":
    main()
