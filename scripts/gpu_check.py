"""GPU check: the providers in use, the largest CUDA-vs-CPU difference over 1,024 windows, model-alone
milliseconds per run by batch size (CPU, CUDA, CUDA with graphs), and the service's requests/s with
FORECAST_PROVIDERS=cpu and auto. scripts/gpu_check.sh runs it on a GPU; `--accelerator cpu` runs every step
with the CPU standing in for the GPU, which is how make test keeps it alive."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if not __package__:  # run as `python scripts/gpu_check.py`: bench/ and service/ live in the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bodies import INFER_PATH, binary_infer_body, predict_body, sample_windows
from bench.pyload import Load, run_load
from bench.servers import server, service_argv
from service.cpus import usable_cpus
from service.errors import ModelError
from service.model.cuda import resolve_providers
from service.model.forecaster import Forecaster, load_forecaster
from service.model.registry import RegistryError, read_current
from service.model.runners import Runner
from service.model.sessions import ProviderError, SessionConfig

MAX_REL_DIFF = 1e-4  # the service's own golden-check tolerance
BATCHES = (1, 64, 256, 1024, 4096, 16384)
BULK = 1024


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b) / np.maximum(np.abs(b.astype(np.float64)), 1e-12)))


def compare(candidate: Forecaster, reference: Forecaster, windows: np.ndarray) -> dict[str, float]:
    """Largest relative difference of forecasts and of quantiles; each model runs on its first device."""
    f_a, q_a = candidate.predict(windows, candidate.devices[0])
    f_b, q_b = reference.predict(windows, reference.devices[0])
    return {"forecast": relative(f_a, f_b), "quantiles": relative(q_a, q_b) if q_b.size else 0.0}


def load_models(models: Path, accelerator: str, batches: tuple[int, ...]) -> dict[str, Forecaster]:
    """The CPU model and, on a GPU, the CUDA model with and without graphs (captured up to the largest batch)."""
    version = read_current(models)
    threads = usable_cpus()

    def load(config: SessionConfig) -> Forecaster:
        return load_forecaster(models / version, version, config)

    loaded = {"cpu": load(SessionConfig("cpu", threads))}
    if accelerator == "cuda":
        resolve_providers("cuda")  # preloads the pip-installed CUDA libraries; says what is missing
        loaded["cuda"] = load(SessionConfig("cuda", threads, cuda_graphs=False))
        loaded["cuda graphs"] = load(SessionConfig("cuda", threads, cuda_graphs=True, max_batch=max(batches)))
    else:
        loaded["cpu stand-in"] = load(SessionConfig("cpu", threads))
    return loaded


def ms_per_run(runner: Runner, windows: np.ndarray, min_seconds: float) -> float:
    """Median of 5 timed loops after a warm-up run."""
    runner.run(windows)
    loops = []
    for _ in range(5):
        count, started = 0, time.perf_counter()
        while count < 2 or time.perf_counter() - started < min_seconds / 5:
            runner.run(windows)
            count += 1
        loops.append((time.perf_counter() - started) / count * 1000)
    return statistics.median(loops)


def model_timings(loaded: dict[str, Forecaster], batches: tuple[int, ...], min_seconds: float) -> dict:
    """ms per run of each model's first device, by batch size: the model alone, no HTTP."""
    return {
        name: {
            b: ms_per_run(model.runners[model.devices[0]], sample_windows(b, model.window), min_seconds)
            for b in batches
        }
        for name, model in loaded.items()
    }


def service_rates(models: Path, modes: tuple[str, ...], seconds: float, connections: tuple[int, ...]) -> list[dict]:
    """The real service under load, per provider mode: single windows, and 1,024 windows as JSON and binary."""
    bodies = {
        "1 window, JSON": ("/predict", predict_body(None), {"Content-Type": "application/json"}, 1),
        f"{BULK} windows, JSON": ("/predict", predict_body(BULK), {"Content-Type": "application/json"}, BULK),
        f"{BULK} windows, binary": (INFER_PATH, *binary_infer_body(BULK), BULK),
    }
    rows = []
    for mode in modes:
        env = {"FORECAST_MODEL_DIR": str(models), "FORECAST_PROVIDERS": mode, "FORECAST_RELOAD_SECONDS": "0"}
        with server(service_argv(), "/health/ready", env) as running:
            for name, (path, body, headers, windows) in bodies.items():
                for c in connections:
                    result = run_load(Load(running["url"] + path, body, headers, c, seconds))
                    rows.append({"mode": mode, "body": name, "connections": c, "windows": windows, **result})
                    print(f"  {mode:4} {name:22} c={c:<3} {result['rps']:8.0f} req/s", flush=True)
    return rows


def print_timings(timings: dict, batches: tuple[int, ...]) -> None:
    names = list(timings)
    print("\nmodel alone, ms per run (median of 5 loops):")
    print(f"| batch | {' | '.join(names)} |")
    print("|---|" + "---|" * len(names))
    for b in batches:
        print(f"| {b} | " + " | ".join(f"{timings[n][b]:.3f}" for n in names) + " |")


def print_rates(rows: list[dict], model_alone_wps: float) -> list[str]:
    """The service table, and the targets: auto >= cpu everywhere, bulk >= 0.3x the model alone."""
    print("\nservice, requests/s (Python load generator, keep-alive):")
    print("| body | connections | mode | req/s | windows/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        wps = r["rps"] * r["windows"]
        print(
            f"| {r['body']} | {r['connections']} | {r['mode']} | {r['rps']:.0f} | {wps:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |"
        )
    misses = []
    for r in rows:
        if r["mode"] != "auto":
            continue
        cpu = next(
            x for x in rows if x["mode"] == "cpu" and (x["body"], x["connections"]) == (r["body"], r["connections"])
        )
        if r["rps"] < cpu["rps"]:  # one run each: a miss within noise still shows, with its ratio
            misses.append(f"auto {r['rps'] / cpu['rps']:.2f}x cpu: {r['body']} at {r['connections']} connections")
    bulk = max((r["rps"] * r["windows"] for r in rows if r["mode"] == "auto" and r["windows"] == BULK), default=0)
    print(f"\nbulk windows/s (auto, best) {bulk:.0f} = {bulk / model_alone_wps:.2f}x the model alone at {BULK}")
    if bulk < 0.3 * model_alone_wps:
        misses.append(f"bulk windows/s below 0.3x the model alone ({bulk:.0f} < {0.3 * model_alone_wps:.0f})")
    return misses


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--accelerator", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)), help="model-alone batch sizes")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per service load run")
    parser.add_argument("--connections", default="1,64")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    batches = tuple(int(b) for b in args.batches.split(","))
    try:
        loaded = load_models(args.models, args.accelerator, batches)
    except (ProviderError, RegistryError, ModelError) as exc:
        print(f"GPU check failed: {exc}")
        return 1
    names = list(loaded)
    print(f"model {loaded['cpu'].version}")
    for name, model in loaded.items():
        print(f"providers in use ({name}): {model.providers}; devices {list(model.runners)}")
    diff = compare(loaded[names[-1]], loaded["cpu"], sample_windows(1024, loaded["cpu"].window))
    print(f"{names[-1]} vs cpu, 1024 windows: largest relative difference", end=" ")
    print(f"forecasts {diff['forecast']:.3g}, quantiles {diff['quantiles']:.3g}")
    timings = model_timings(loaded, batches, min_seconds=max(0.2, args.seconds / 10))
    print_timings(timings, batches)
    alone = max(BULK / timings[n][BULK] * 1000 for n in names[1:]) if BULK in batches else float("nan")
    connections = tuple(int(c) for c in args.connections.split(","))
    rows = service_rates(args.models, ("cpu", "auto"), args.seconds, connections)
    misses = print_rates(rows, alone)
    print("\n" + ("targets met" if not misses else "targets missed:\n  " + "\n  ".join(misses)))
    return 0 if max(diff.values()) < MAX_REL_DIFF else 1


if __name__ == "__main__":
    sys.exit(main())
