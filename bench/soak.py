"""Soak: the service under 64 connections for 5 minutes; no errors, resident memory growth under 10%.

Run: python -m bench.soak [--minutes 5]. Prints RSS after warm-up and every 30 s, and the verdict.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from bench.bodies import predict_body
from bench.load import run_wrk
from bench.servers import ROOT, rss_mb, server, service_argv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    body = predict_body(None)
    with server(service_argv(), "/health/ready", {"FORECAST_MODEL_DIR": str(args.models)}) as s:
        run_wrk(s["url"] + "/predict", body, args.connections, 20)  # warm-up: allocator and caches settle
        baseline = rss_mb(s["pid"])
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            started = time.monotonic()
            while not done.wait(30):
                samples.append((time.monotonic() - started, rss_mb(s["pid"])))
                print(f"  {samples[-1][0]:5.0f} s  RSS {samples[-1][1]:.1f} MB", flush=True)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        result = run_wrk(s["url"] + "/predict", body, args.connections, args.minutes * 60)
        done.set()
        final = rss_mb(s["pid"])
    growth = (final - baseline) / baseline
    print(
        f"requests {result['requests']}, {result['rps']:.0f} req/s, errors {result['errors']}, "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"
    )
    print(f"RSS after warm-up {baseline:.1f} MB, at the end {final:.1f} MB, growth {growth:+.1%} (limit +10%)")
    ok = result["errors"] == 0 and growth < 0.10
    print("SOAK OK" if ok else "SOAK FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
