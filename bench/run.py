"""`make bench`: model speed, HTTP against the floor and the PyTorch peer, batch requests, cold start, memory.

Everything is measured in one run on this machine; comparisons are ratios of medians of repeats.
Writes bench/results.md, bench/results.json and bench/results.png.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import model_speed
from bench.bodies import INFER_PATH, binary_infer_body, predict_body
from bench.lengths import CONNECTIONS as LENGTHS_CONNECTIONS
from bench.lengths import DISTINCT as DISTINCT_WINDOWS
from bench.lengths import mixed_length_runs
from bench.load import run_wrk
from bench.peers.launch import PEERS, ensure_venv
from bench.recording import recording_runs
from bench.servers import ROOT, child_pids, rss_mb, server, service_argv
from service.cpus import usable_cpus

SERVICE, SERVICE_N, FLOOR = "service, 1 worker", "service, {n} workers", "floor (FastAPI async def, no inference)"
LIMIT, TORCH = "HTTP limit (raw ASGI, orjson echo)", "peer (FastAPI + torch eager)"
UNBATCHED = "service, 1 worker, batching off (FORECAST_MAX_BATCH=1)"
CONNECTIONS = (1, 8, 32, 64, 128)
BATCH_SIZES = (1, 64, 1024)
PAIR_REPEATS = 5  # the 1-connection comparison with batching off: two small latencies, so more repeats
LENGTHS_REPEATS = 5  # mixed lengths against the shortest alone: alternated, like recording on and off
RECORDING_REPEATS = 7  # recording on vs off: two throughputs this machine varies by 15% run to run, so more repeats


@dataclass(frozen=True)
class Target:
    """One server in the HTTP table: how to start it and what to send it."""

    name: str
    argv: list[str] | Callable[[int], list[str]]
    ready_path: str = "/health/ready"
    path: str = "/predict"
    body: bytes = b""
    env: dict[str, str] = field(default_factory=dict)
    connections: tuple[int, ...] = CONNECTIONS


def targets_to_run(models: Path, workers: int, peers: bool) -> list[Target]:
    """HTTP limit, floor, peers, the service with 1 and N workers (and without batching, at 1 connection)."""
    window = json.loads(predict_body(None))["window"]
    single = predict_body(None)
    found = [
        Target(LIMIT, [sys.executable, "-m", "bench.http_limit_app"], body=single),
        Target(FLOOR, [sys.executable, "-m", "bench.floor_app"], body=single),
        Target(TORCH, [sys.executable, "-m", "bench.peer_app"], body=single, env={"FORECAST_MODEL_DIR": str(models)}),
    ]
    for peer in PEERS if peers else ():
        bin_dir = ensure_venv(peer)
        found.append(
            Target(
                peer.name,
                functools.partial(peer.argv, bin_dir),
                peer.ready_path,
                peer.path,
                peer.body(window),
                {"FORECAST_MODEL_DIR": str(models), "PYTHONPATH": str(ROOT)},
            )
        )
    found += [
        Target(SERVICE, service_argv(), body=single, env=service_env(models, FORECAST_WORKERS="1")),
        Target(
            SERVICE_N.format(n=workers),
            service_argv(),
            body=single,
            env=service_env(models, FORECAST_WORKERS=str(workers)),
        ),
    ]
    return found


def pair_targets(models: Path) -> list[Target]:
    """The service and batching off (FORECAST_MAX_BATCH=1) at 1 connection only, run alternately by http_runs
    with more repeats: at one connection both run a lone window on the event loop, so drift between runs far
    apart in the sweep, not the code, would decide their ratio."""
    env = service_env(models, FORECAST_WORKERS="1")
    return [
        Target(SERVICE, service_argv(), body=predict_body(None), env=env, connections=(1,)),
        Target(
            UNBATCHED, service_argv(), body=predict_body(None), env={**env, "FORECAST_MAX_BATCH": "1"}, connections=(1,)
        ),
    ]


def service_env(models: Path, **settings: str) -> dict[str, str]:
    """The service as deployed: the access log on (info), these FORECAST_* settings added."""
    return {"FORECAST_MODEL_DIR": str(models), "FORECAST_LOG_LEVEL": "info", **settings}


def http_runs(targets: list[Target], seconds: float, repeats: int) -> dict[str, dict[int, list[dict]]]:
    """wrk at each connection count against each server; repeats interleaved so drift hits all alike."""
    runs: dict[str, dict[int, list[dict]]] = {t.name: {c: [] for c in t.connections} for t in targets}
    headers = {"Content-Type": "application/json"}
    for rep in range(repeats):
        for t in targets:
            with server(t.argv, t.ready_path, t.env) as s:
                url = s["url"] + t.path
                run_wrk(url, t.body, 32, 2, headers=headers)  # warm-up
                for connections in t.connections:
                    result = run_wrk(url, t.body, connections, seconds, threads=1, headers=headers)
                    runs[t.name][connections].append(result)
                    print(f"rep {rep + 1} {t.name} c={connections}: {result['rps']:.0f} req/s", flush=True)
    return runs


def batch_runs(models: Path, seconds: float, repeats: int) -> dict[str, float]:
    """End-to-end windows/s of /predict JSON with 1, 64 and 1024 windows per request, and of 1024 raw
    float32 windows through the inference protocol's binary extension (2 connections)."""
    bodies: dict[str, tuple[str, bytes, dict[str, str] | None]] = {
        str(b): ("/predict", predict_body(b), None) for b in BATCH_SIZES
    }
    bodies[f"{BATCH_SIZES[-1]} binary (/v2 infer)"] = (INFER_PATH, *binary_infer_body(BATCH_SIZES[-1]))
    found: dict[str, list[float]] = {name: [] for name in bodies}
    with server(service_argv(), "/health/ready", {"FORECAST_MODEL_DIR": str(models)}) as s:
        for _ in range(repeats):
            for name, (path, body, headers) in bodies.items():
                result = run_wrk(s["url"] + path, body, 2, seconds, threads=1, headers=headers)
                assert result["errors"] == 0, result
                found[name].append(result["rps"] * int(name.split()[0]))
    return {name: statistics.median(v) for name, v in found.items()}


def cold_start_and_memory(models: Path, soak_seconds: float, repeats: int, workers: int) -> dict:
    """Seconds to /health/ready 200 (1 worker); RSS after warm-up and after soak_seconds at 32 connections;
    the largest worker's RSS with `workers` workers."""
    ready, warm, loaded, per_worker = [], [], [], []
    env = {"FORECAST_MODEL_DIR": str(models)}
    body, headers = predict_body(None), {"content-type": "application/json"}
    for rep in range(repeats):
        with server(service_argv(), "/health/ready", env) as s:
            ready.append(s["ready_s"])
            for _ in range(100):
                httpx.post(s["url"] + "/predict", content=body, headers=headers)
            warm.append(rss_mb(s["pid"]))
            if rep == 0:
                run_wrk(s["url"] + "/predict", body, 32, soak_seconds)
                loaded.append(rss_mb(s["pid"]))
    with server(service_argv(), "/health/ready", {**env, "FORECAST_WORKERS": str(workers)}) as s:
        run_wrk(s["url"] + "/predict", body, 32, 5)
        per_worker = [rss_mb(pid) for pid in child_pids(s["pid"])]
    return {
        "ready_s": statistics.median(ready),
        "ready_runs": ready,
        "rss_warm_mb": statistics.median(warm),
        "rss_after_load_mb": loaded[0],
        "rss_worker_mb": max([*per_worker, warm[0], loaded[0]]),
        "rss_workers_mb": per_worker,
        "soak_seconds": soak_seconds,
    }


def median_row(results: list[dict]) -> dict:
    keys = ("rps", "p50_ms", "p90_ms", "p99_ms", "cpu_busy")
    return {key: statistics.median(r[key] for r in results) for key in keys} | {
        "errors": sum(r["errors"] for r in results)
    }


def report(data: dict, out: Path) -> str:
    """bench/results.md."""
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {data['machine']}. Generated by `make bench` on {data['date']}; "
        f"every number is the median of {data['repeats']} repetitions in this one run.",
        "",
        "## 1. Model: onnxruntime vs PyTorch eager (in-process, same weights)",
        "",
        f"Rough fp32 peak: {data['peak_gflops']:.0f} GFLOP/s ({data['peak_note']}); "
        f"{data['mflop_per_window']:.2f} MFLOP per window.",
        "",
        "| engine | batch | ms / call | windows/s | GFLOP/s | % of peak |",
        "|---|---|---|---|---|---|",
    ]
    for r in data["model"]:
        lines.append(
            f"| {r['engine']} | {r['batch']} | {r['ms_per_call']:.3f} | {r['windows_per_s']:.0f} | "
            f"{r['gflops']:.2f} | {100 * r['gflops'] / data['peak_gflops']:.1f}% |"
        )
    lines += [
        "",
        "## 2. HTTP: one window per request (wrk, one thread, on the same 2 cores as the servers)",
        "",
        "| server | connections | req/s | p50 ms | p90 ms | p99 ms | errors | machine CPU busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, by_c in data["http"].items():
        for c, r in by_c.items():
            lines.append(
                f"| {name} | {c} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | "
                f"{r['p99_ms']:.2f} | {r['errors']} | {r['cpu_busy']:.0%} |"
            )
    lines += ["", worker_headroom(data)]
    pair = {name: median_row(rs) for name, rs in data["pair"].items()}
    lines += [
        "",
        f"At 1 connection the service and batching off were also run alternately, back to back, "
        f"{len(data['pair'][SERVICE])} times each (the batching-off row above is from these runs): p50 "
        + " vs ".join(f"{r['p50_ms']:.3f} ms ({name})" for name, r in pair.items())
        + ".",
    ]
    lines += ["", *recording_section(data["recording"])]
    if "lengths" in data:
        lines += ["", *lengths_section(data["lengths"])]
    lines += [
        "",
        "## 3. Batch requests: end-to-end windows/s (2 connections)",
        "",
        "| windows per request | windows/s end to end |",
        "|---|---|",
    ]
    lines += [f"| {b} | {w:.0f} |" for b, w in data["batch"].items()]
    cs = data["cold"]
    lines += [
        "",
        "## 4. Cold start and memory",
        "",
        f"- seconds from process start to /health/ready 200: {cs['ready_s']:.2f} (runs: "
        f"{', '.join(f'{x:.2f}' for x in cs['ready_runs'])})",
        f"- resident memory after warm-up: {cs['rss_warm_mb']:.0f} MB; after {cs['soak_seconds']:.0f} s at 32 "
        f"connections: {cs['rss_after_load_mb']:.0f} MB",
        "",
        "## Targets",
        "",
    ]
    lines += [f"- {t['name']}: {t['value']} -> **{'holds' if t['ok'] else 'missed'}**" for t in data["targets"]]
    lines += ["", "![results](results.png)", ""]
    text = "\n".join(lines)
    (out / "results.md").write_text(text)
    return text


def recording_section(found: dict) -> list[str]:
    """Recording on vs off: the same load, every forecast recorded and scored (SQLite, the default store)."""
    lines = [
        "### Recording forecasts on and off (1 worker, 32 connections, SQLite)",
        "",
        "Each request is the next day of one long simulated price path, so every answer is recorded, matched with "
        "the day before and scored; the runs alternate, each on a fresh store, and each row is the median of "
        f"{found['repeats']} runs (two small differences on a noisy machine). CPU is per request: the server process "
        "(event loop, inference, logs) and its writer process.",
        "",
        "| recording | req/s | p50 ms | p99 ms | errors | recorded | dropped | scored "
        "| server CPU µs | writer CPU µs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for arm in ("off", "on"):
        r = found[arm]
        lines.append(
            f"| {arm} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | {r['recorded']:.0f} | "
            f"{r['dropped']:.0f} | {r['scored']:.0f} | {r['cpu_us_server']:.0f} | {r['cpu_us_writer']:.0f} |"
        )
    return lines


def lengths_section(found: dict) -> list[str]:
    """Mixed window lengths under load against the shortest alone, on the same service."""
    lines = [
        f"### Mixed window lengths (1 worker, {LENGTHS_CONNECTIONS} connections)",
        "",
        f"One request in {round(1 / found['long_share'])} posts the model's longest window ({found['longest']} "
        f"prices), the others its shortest ({found['shortest']}); against the same service posting only the shortest. "
        f"Medians of {found['mixed']['repeats']} alternated runs. Before the load, {DISTINCT_WINDOWS} windows sent "
        f"together (batched by length) answered as when sent alone to {found['max_rel_diff']:.1e} relative.",
        "",
        "| load | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|",
    ]
    for name in ("shortest only", "mixed"):
        r = found[name]
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |")
    return lines


def targets(data: dict) -> list[dict]:
    """The issues' targets, as ratios from this run (medians of the repeats)."""
    http, n_name = data["http"], data["service_n"]
    svc, floor = http[SERVICE]["32"], http[FLOOR]["32"]
    peers = {name: by_c["32"]["rps"] for name, by_c in http.items() if name in data["peers"]}
    best_peer = max(peers, key=peers.__getitem__) if peers else None
    ort_1024 = next(r["windows_per_s"] for r in data["model"] if r["engine"] == "onnxruntime" and r["batch"] == 1024)
    e2e, cs, rec = data["batch"]["1024"], data["cold"], data["recording"]
    found = [
        check("single window, 32 connections: service vs the async floor (>= 0.8x)", svc["rps"] / floor["rps"], 0.8),
        check("p99 / p50 at 32 connections (<= 2)", svc["p99_ms"] / svc["p50_ms"], 2, at_most=True),
        check(
            f"p50 at 1 connection vs batching off, alternated {len(data['pair'][SERVICE])} times (<= 1.2x)",
            median_row(data["pair"][SERVICE])["p50_ms"] / median_row(data["pair"][UNBATCHED])["p50_ms"],
            1.2,
            at_most=True,
        ),
        check(
            f"{n_name} vs 1 worker at 64 connections (>= 1.4x)",
            http[n_name]["64"]["rps"] / http[SERVICE]["64"]["rps"],
            1.4,
        ),
        check("32 connections vs the PyTorch eager peer (>= 5x)", svc["rps"] / http[TORCH]["32"]["rps"], 5),
        check("batch of 1024: end-to-end vs onnxruntime in-process windows/s (>= 0.7x)", e2e / ort_1024, 0.7),
        check(
            "recording on vs off, single window at 32 connections (>= 0.9x)", rec["on"]["rps"] / rec["off"]["rps"], 0.9
        ),
        check(
            "recording on vs off, p99 at 32 connections (<= 1.2x)",
            rec["on"]["p99_ms"] / rec["off"]["p99_ms"],
            1.2,
            at_most=True,
        ),
        check("cold start, s (< 2)", cs["ready_s"], 2, at_most=True),
        *length_checks(data.get("lengths")),
        check("resident memory per worker, MB (< 150)", cs["rss_worker_mb"], 150, at_most=True),
    ]
    if best_peer:
        found.insert(
            1, check(f"32 connections vs the fastest peer, {best_peer} (>= 2.5x)", svc["rps"] / peers[best_peer], 2.5)
        )
    return found


def length_checks(found: dict | None) -> list[dict]:
    """Mixed lengths: every request answered, and each window's answer the same whatever it was batched with."""
    if found is None:
        return []
    errors = found["mixed"]["errors"]
    return [
        check("mixed lengths: failed requests (0)", errors, 0, at_most=True),
        check(
            "mixed lengths: largest answer change from batching (<= 1e-5)", found["max_rel_diff"], 1e-5, at_most=True
        ),
    ]


def check(name: str, value: float, bound: float, at_most: bool = False) -> dict:
    return {"name": name, "value": f"{value:.2f}", "ok": value <= bound if at_most else value >= bound}


README_START, README_END = "<!-- bench:start (make bench writes this block) -->", "<!-- bench:end -->"


def readme_block(data: dict) -> str:
    """The performance page's numbers, from this run: req/s by connections, p50/p99 at 32, the targets."""
    conns = [str(c) for c in CONNECTIONS]
    lines = [
        f"From `make bench` on {data['date']} ({data['machine']}, wrk on the same cores, "
        f"medians of {data['repeats']}):",
        "",
        "| server, one window per request | "
        + " | ".join(f"req/s @{c}" for c in conns)
        + " | p50 / p99 ms @32 | errors |",
        "|---|" + "---|" * (len(conns) + 2),
    ]
    for name, by_c in data["http"].items():
        cells = [f"{by_c[c]['rps']:.0f}" if c in by_c else "" for c in conns]
        at = by_c.get("32") or next(iter(by_c.values()))
        errors = sum(r["errors"] for r in by_c.values())
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {at['p50_ms']:.2f} / {at['p99_ms']:.2f} | {errors} |")
    lines += ["", *(f"- {t['name']}: {t['value']} -> **{'holds' if t['ok'] else 'missed'}**" for t in data["targets"])]
    return "\n".join([*lines, "", worker_headroom(data)])


def worker_headroom(data: dict) -> str:
    """What more workers added at 64 connections: CPU one worker left idle, and a lower CPU cost per request."""
    one, many = data["http"][SERVICE]["64"], data["http"][data["service_n"]]["64"]
    gain, more_cpu = many["rps"] / one["rps"], many["cpu_busy"] / one["cpu_busy"]
    return (
        f"At 64 connections one worker kept the machine {one['cpu_busy']:.0%} busy (wrk included) and "
        f"{data['service_n'].removeprefix('service, ')} {many['cpu_busy']:.0%}: they gained {more_cpu:.2f}x from "
        f"the CPU one worker left idle (at most {1 / one['cpu_busy']:.2f}x here) and {gain / more_cpu:.2f}x from "
        f"a lower CPU cost per request, {gain:.2f}x in all."
    )


def write_readme(readme: Path, block: str) -> None:
    """Replaces the text between the bench markers of the page."""
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(text[:start] + "\n" + block + "\n" + text[end:])


def plot(data: dict, out: Path) -> None:
    """req/s by connections for each server, and windows/s by batch for each engine."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=100)
    for name, by_c in data["http"].items():
        left.plot([int(c) for c in by_c], [r["rps"] for r in by_c.values()], marker="o", label=name)
    left.set_xscale("log", base=2)
    left.set_xlabel("concurrent connections")
    left.set_ylabel("requests/s (single window)")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    for engine in ("onnxruntime", "torch eager"):
        rows = [r for r in data["model"] if r["engine"] == engine]
        right.plot([r["batch"] for r in rows], [r["windows_per_s"] for r in rows], marker="o", label=engine)
    right.set_xscale("log", base=2)
    right.set_xlabel("batch size")
    right.set_ylabel("windows/s in-process")
    right.legend()
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "results.png")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--seconds", type=float, default=8, help="seconds per wrk run (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions of each measurement (default 3)")
    parser.add_argument("--soak", type=float, default=60, help="seconds under load before the memory reading")
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument("--no-peers", action="store_true", help="skip LitServe, MLServer and BentoML")
    parser.add_argument(
        "--readme", type=Path, default=None, help="write the numbers into this page's bench block (docs/performance.md)"
    )
    args = parser.parse_args()
    version_dir = args.models / (args.models / "CURRENT").read_text().strip()
    card = json.loads((version_dir / "model.json").read_text())
    cores = usable_cpus()
    peak, note = model_speed.peak_gflops(cores)
    data: dict = {
        "machine": f"{cores} CPUs",
        "date": time.strftime("%Y-%m-%d"),
        "repeats": args.repeats,
        "peak_gflops": peak,
        "peak_note": note,
        "model_version": card["version"],
        "mflop_per_window": model_speed.lstm_flops(
            card["window"], card["architecture"]["layers"], card["architecture"]["hidden"]
        )
        / 1e6,
    }
    data["model"] = model_speed.measure(version_dir, cores)
    workers = max(2, cores)
    chosen = targets_to_run(args.models, workers, not args.no_peers)
    data["peers"] = [p.name for p in PEERS if not args.no_peers]
    data["service_n"] = SERVICE_N.format(n=workers)
    runs = http_runs(chosen, args.seconds, args.repeats)
    data["http"] = {n: {str(c): median_row(rs) for c, rs in by_c.items()} for n, by_c in runs.items()}
    pair = http_runs(pair_targets(args.models), args.seconds, PAIR_REPEATS)
    data["pair"] = {name: by_c[1] for name, by_c in pair.items()}
    data["http"][UNBATCHED] = {"1": median_row(data["pair"][UNBATCHED])}
    data["recording"] = recording_runs(args.models, args.seconds, max(args.repeats, RECORDING_REPEATS))
    data["lengths"] = mixed_length_runs(args.models, args.seconds, max(args.repeats, LENGTHS_REPEATS))
    data["batch"] = batch_runs(args.models, args.seconds, args.repeats)
    data["cold"] = cold_start_and_memory(args.models, args.soak, args.repeats, workers)
    data["targets"] = targets(data)
    (args.out / "results.json").write_text(json.dumps(data, indent=1))
    plot(data, args.out)
    print(report(data, args.out))
    if args.readme:
        write_readme(args.readme, readme_block(data))


if __name__ == "__main__":
    main()
