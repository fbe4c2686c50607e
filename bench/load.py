"""Runs wrk with a Lua POST script against a URL and parses throughput, latency percentiles and errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "%(content_type)s"
%(extra_headers)s
local f = io.open("%(body)s", "rb")
wrk.body = f:read("*a")
f:close()

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "RESULT {\\"requests\\": %%d, \\"seconds\\": %%f, \\"errors\\": %%d, "
    .. "\\"p50_ms\\": %%f, \\"p90_ms\\": %%f, \\"p99_ms\\": %%f}\\n",
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
"""


def cpu_counters() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat (Linux); None elsewhere."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    total = sum(fields)  # user nice system idle iowait irq softirq steal; guest time is inside user
    return total - fields[3] - fields[4], total


def busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float:
    """The machine's busy share of CPU time between two cpu_counters() readings; NaN when unknown."""
    if before is None or after is None or after[1] == before[1]:
        return float("nan")
    return (after[0] - before[0]) / (after[1] - before[1])


def require_wrk() -> str:
    """The wrk binary (Debian package `wrk`)."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    return path


def run_wrk(
    url: str,
    body: bytes,
    connections: int,
    seconds: float,
    threads: int = 1,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    """One wrk run; requests/s, p50/p90/p99 in ms, errors (non-2xx, socket errors, timeouts), and the machine's
    busy share of CPU meanwhile (wrk included)."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    extra = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items() if k != "Content-Type")
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp) / "body.bin"
        body_path.write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(LUA % {"body": body_path, "content_type": headers["Content-Type"], "extra_headers": extra})
        return wrk(url, script, connections, seconds, threads)


def wrk(url: str, script: Path, connections: int, seconds: float, threads: int) -> dict[str, float]:
    """Runs wrk with a Lua script that prints its RESULT line; adds req/s and the machine's busy CPU share."""
    before = cpu_counters()
    out = subprocess.run(
        [
            require_wrk(),
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{max(int(seconds), 1)}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu_busy = busy_share(before, cpu_counters())
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    result["cpu_busy"] = cpu_busy
    return result


LUA_BODIES = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
next_body = 0

request = function()
  next_body = next_body %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end
""" + LUA[LUA.index("done = function") :]


def run_wrk_bodies(url: str, bodies: list[bytes], connections: int, seconds: float) -> dict[str, float]:
    """One wrk run (one thread) posting JSON `bodies` in turn, one per line: request i gets body i."""
    with tempfile.TemporaryDirectory() as tmp:
        lines = Path(tmp) / "bodies.jsonl"
        lines.write_bytes(b"\n".join(bodies) + b"\n")
        script = Path(tmp) / "bodies.lua"
        script.write_text(LUA_BODIES % {"bodies": lines})
        return wrk(url, script, connections, seconds, 1)
