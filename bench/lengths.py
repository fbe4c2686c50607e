"""Windows of mixed lengths under load: single-window /predict at 32 connections where one request in five posts the
model's longest window and the others its shortest, against the same service posting only the shortest. Arms
alternate within each repeat; before the load, every distinct window's answer under concurrent mixed traffic is
checked against its answer alone."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
from pathlib import Path

import httpx
import numpy as np

from bench.bodies import sample_windows
from bench.load import run_wrk_bodies
from bench.servers import server, service_argv

CONNECTIONS = 32
LONG_EVERY = 5  # 20% of requests at the longest window
DISTINCT = 500  # different windows cycled through, so that no answer is a repeat of the one before


def mixed_bodies(shortest: int, longest: int, long_every: int = LONG_EVERY) -> list[bytes]:
    """/predict bodies: every `long_every`-th posts `longest` prices, the rest `shortest` (the newest of the same
    kind of path)."""
    paths = sample_windows(DISTINCT, longest, seed=11).round(2)
    return [
        json.dumps({"window": path[-(longest if i % long_every == long_every - 1 else shortest) :].tolist()}).encode()
        for i, path in enumerate(paths)
    ]


def short_bodies(shortest: int) -> list[bytes]:
    """The same count of /predict bodies, every one the shortest window."""
    return [json.dumps({"window": w.tolist()}).encode() for w in sample_windows(DISTINCT, shortest, seed=11).round(2)]


async def answers_under_mixed_load(url: str, bodies: list[bytes]) -> float:
    """Largest relative difference between each window's answer in concurrent mixed traffic and alone."""
    async with httpx.AsyncClient(timeout=30, headers={"Content-Type": "application/json"}) as client:
        alone = [(await client.post(url, content=b)).json()["forecast"] for b in bodies]
        together = await asyncio.gather(*(client.post(url, content=b) for b in bodies))
    got = np.array([r.json()["forecast"] for r in together])
    return float(np.max(np.abs(got - np.array(alone)) / np.abs(np.array(alone))))


def service_env(models: Path, tmp: str) -> dict[str, str]:
    """One worker with the default settings (recording on, into a fresh store)."""
    return {"FORECAST_MODEL_DIR": str(models), "FORECAST_WORKERS": "1", "FORECAST_STORE": f"{tmp}/f.sqlite"}


def mixed_length_runs(models: Path, seconds: float, repeats: int) -> dict:
    """Medians of `repeats` alternated runs of each load on one service: req/s, p50, p99, errors."""
    card = json.loads((models / (models / "CURRENT").read_text().strip() / "model.json").read_text())
    shortest, longest = card["window"], card.get("max_window", card["window"])
    loads = {"shortest only": short_bodies(shortest), "mixed": mixed_bodies(shortest, longest)}
    runs: dict[str, list[dict]] = {name: [] for name in loads}
    with tempfile.TemporaryDirectory() as tmp, server(service_argv(), "/health/ready", service_env(models, tmp)) as s:
        url = s["url"] + "/predict"
        drift = asyncio.run(answers_under_mixed_load(url, loads["mixed"]))
        run_wrk_bodies(url, loads["mixed"], CONNECTIONS, 2)  # warm-up
        for rep in range(repeats):
            for name in list(loads) if rep % 2 == 0 else list(loads)[::-1]:
                result = run_wrk_bodies(url, loads[name], CONNECTIONS, seconds)
                runs[name].append(result)
                print(f"rep {rep + 1} {name}: {result['rps']:.0f} req/s", flush=True)
    found = {name: summary(rs) for name, rs in runs.items()}
    return found | {"shortest": shortest, "longest": longest, "long_share": 1 / LONG_EVERY, "max_rel_diff": drift}


def summary(runs: list[dict]) -> dict:
    found = {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50_ms", "p99_ms")}
    return found | {"errors": sum(r["errors"] for r in runs), "repeats": len(runs)}
