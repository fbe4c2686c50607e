"""Recording on vs off: single-window /predict at 32 connections, each request the next day of one long price path
(so every forecast is recorded, matched with the day before and scored), against the same service with
FORECAST_RECORD=false. Arms alternate within each repeat, and which goes first alternates too; each run starts a
fresh store."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path

import httpx
import numpy as np

from bench.load import run_wrk_bodies
from bench.servers import child_pids, server, service_argv

CONNECTIONS = 32
DAYS = 60_000  # more days than a run can post: no window is ever posted twice


def day_bodies(days: int = DAYS, window: int = 60, seed: int = 7) -> list[bytes]:
    """/predict bodies of one path, day by day: each window is the one before it moved on by one price."""
    rng = np.random.default_rng(seed)
    prices = (2500 * np.exp(np.cumsum(rng.normal(0, 0.01, days + window)))).astype(np.float32).round(2)
    return [json.dumps({"window": prices[t : t + window].tolist()}).encode() for t in range(days)]


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds so far of the server process and of its children (the writer process), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")

    def used(p: int) -> float:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    return {"server": used(pid), "writer": sum(used(child) for child in child_pids(pid))}


def counted(url: str) -> dict[str, float]:
    """The ledger's counters from /metrics: recorded, dropped and scored forecasts."""
    found = {"recorded": 0.0, "dropped": 0.0, "scored": 0.0}
    names = {"forecast_recorded_total": "recorded", "forecast_record_dropped_total": "dropped"}
    names["forecast_outcomes_scored_total"] = "scored"
    for line in httpx.get(url + "/metrics").text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in names:
            found[names[name]] += float(line.rsplit(" ", 1)[1])
    return found


def recording_runs(models: Path, seconds: float, repeats: int) -> dict:
    """Medians of `repeats` alternated runs of each arm: req/s, p50, p99; and what the store kept."""
    bodies, warm = day_bodies(), day_bodies(2_000, seed=8)
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    base = {"FORECAST_MODEL_DIR": str(models), "FORECAST_LOG_LEVEL": "info", "FORECAST_WORKERS": "1"}
    for rep in range(repeats):
        for arm in ("off", "on") if rep % 2 == 0 else ("on", "off"):  # neither arm always first
            with tempfile.TemporaryDirectory() as tmp:
                env = {**base, "FORECAST_RECORD": str(arm == "on").lower(), "FORECAST_STORE": f"{tmp}/f.sqlite"}
                with server(service_argv(), "/health/ready", env) as s:
                    url = s["url"] + "/predict"
                    run_wrk_bodies(url, warm, CONNECTIONS, 2)
                    before = cpu_seconds(s["pid"])
                    result: dict = run_wrk_bodies(url, bodies, CONNECTIONS, seconds)
                    spent = {k: v - before.get(k, 0.0) for k, v in cpu_seconds(s["pid"]).items()}
                    result["cpu_us"] = {k: 1e6 * v / result["requests"] for k, v in spent.items()}
                    result["store"] = counted(s["url"])
                    runs[arm].append(result)
                    print(f"rep {rep + 1} recording {arm}: {result['rps']:.0f} req/s", flush=True)
    return {arm: summary(found) for arm, found in runs.items()} | {"repeats": repeats}


def summary(runs: list[dict]) -> dict:
    keys = ("rps", "p50_ms", "p99_ms")
    found = {key: statistics.median(r[key] for r in runs) for key in keys}
    found["errors"] = sum(r["errors"] for r in runs)
    found["requests"] = sum(r["requests"] for r in runs)
    for key in ("recorded", "dropped", "scored"):
        found[key] = sum(r["store"][key] for r in runs)
    for key in ("server", "writer"):
        found[f"cpu_us_{key}"] = statistics.median(r["cpu_us"][key] for r in runs)
    return found
