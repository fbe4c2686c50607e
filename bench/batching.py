"""Requests/s of single-window /predict at 32 connections, with and without micro-batching, same run."""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from bench.bodies import predict_body
from bench.load import run_wrk
from bench.servers import server, service_argv

MODES = {
    "batching (default)": {},
    "no batching (FORECAST_MAX_BATCH=1, FORECAST_BATCH_WAIT_MS=0)": {
        "FORECAST_MAX_BATCH": "1",
        "FORECAST_BATCH_WAIT_MS": "0",
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    body = predict_body(None)
    runs: dict[str, list[dict]] = {m: [] for m in MODES}
    for _ in range(args.repeats):  # interleaved, so that drift in machine load hits both modes alike
        for mode, env in MODES.items():
            with server(service_argv(), "/health/ready", {"FORECAST_MODEL_DIR": str(args.models), **env}) as s:
                run_wrk(s["url"] + "/predict", body, args.connections, 2)  # warm-up
                runs[mode].append(run_wrk(s["url"] + "/predict", body, args.connections, args.seconds))
    print(f"| mode | req/s (median of {args.repeats}) | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|")
    medians = {}
    for mode, results in runs.items():
        medians[mode] = statistics.median(r["rps"] for r in results)
        p50 = statistics.median(r["p50_ms"] for r in results)
        p99 = statistics.median(r["p99_ms"] for r in results)
        errors = sum(r["errors"] for r in results)
        print(f"| {mode} | {medians[mode]:.0f} | {p50:.2f} | {p99:.2f} | {errors} |")
    a, b = medians.values()
    print(f"\nbatching / no batching: {a / b:.2f}x")


if __name__ == "__main__":
    main()
