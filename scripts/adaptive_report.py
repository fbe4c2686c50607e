"""`python -m scripts.adaptive_report`: every bundled real series replayed day by day through the real service over
the bundled default model with adaptive intervals on (FORECAST_ADAPT=aci), its prices posted to /outcomes; the
adapted and the model's own intervals scored side by side from /calibration -> reports/adaptive.md and .json."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.servers import server, service_argv
from client.api import ForecastClient
from client.csvfile import read_prices
from client.replay import replay
from service.ledger.calibration import scores
from training.publish.bundled import install_default

ROOT = Path(__file__).resolve().parents[1]
TARGET_INSIDE, TARGET_PINBALL = 0.99, 1.005  # 80% rolling coverage in band on >= 99% of windows; pinball <= 1.005x


def replayed(base: str, csv: Path) -> dict:
    """One series through the service: its /calibration row (with rolling coverage), checked against the scores
    computed here from the answers and the prices."""
    prices = read_prices(csv)
    with ForecastClient(base, timeout=60) as client:
        done = replay(client, prices, series=csv.name)
        (row,) = client.calibration(series=csv.name, rolling="true")["series"]
    index = {d: i for i, d in enumerate(prices.dates)}
    levels = tuple(row["levels"])
    served = np.array([[a.quantiles[q] for q in levels] for a in done.answers[:-1]])
    outcome = np.array([prices.prices[index[d] + 1] for d in done.days[:-1]])
    last = np.array([prices.prices[index[d]] for d in done.days[:-1]])
    offline = scores(outcome, last, served, levels)
    for label, value in offline["coverage"].items():  # the service scored what it answered
        if abs(value - row["coverage"][label]) > 1e-9:
            raise SystemExit(f"{csv.name}: /calibration's {label} coverage {row['coverage'][label]} != {value}")
    return row


def table(rows: dict[str, dict]) -> list[str]:
    lines = [
        "| series | days scored | 80% coverage, adapted / model | 80%: 250-day windows in 0.75-0.85, adapted / model "
        "| 95% coverage, adapted / model | 95%: windows in 0.925-0.975, adapted / model | pinball, adapted / model |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        raw, cells = row["unadjusted"], []
        for label in ("0.8", "0.95"):
            inside = [1 - part["rolling"]["outside_band"][label] for part in (row, raw)]
            cells.append(f"{row['coverage'][label]:.3f} / {raw['coverage'][label]:.3f}")
            cells.append(f"{inside[0]:.2%} / {inside[1]:.2%}")
        ratio = row["pinball"]["mean"] / raw["pinball"]["mean"]
        lines.append(f"| {name} | {row['scored']:,} | " + " | ".join(cells) + f" | {ratio:.4f} |")
    return lines


def write(out: Path, rows: dict[str, dict], version: str, step: float, seconds: float) -> str:
    inside = min(1 - row["rolling"]["outside_band"]["0.8"] for row in rows.values())
    ratio = max(row["pinball"]["mean"] / row["unadjusted"]["pinball"]["mean"] for row in rows.values())
    held = inside >= TARGET_INSIDE and ratio <= TARGET_PINBALL
    text = "\n".join(
        [
            "# Adaptive intervals on every bundled real series",
            "",
            f"Each bundled series replayed day by day through the service (`python -m service`, model {version}, "
            f"`FORECAST_ADAPT=aci`, step {step}) as a daily job would: the day's price posted to `POST /outcomes` "
            "for the day before's forecast, then the day's window to `POST /predict`. The scores are "
            "`/calibration`'s: the intervals as served (adapted) and as the model gave them (model), over the same "
            "days. A 250-day window is every run of 250 consecutive scored days. These series are the model's "
            "training data (its test split is the last 250 days of each), so the model's own coverage here is "
            "in-sample for most days: the point is how adaptation holds coverage where the model drifts, not the "
            "model's out-of-sample skill.",
            "",
            *table(rows),
            "",
            f"Worst series: 80% rolling coverage inside 0.75-0.85 on {inside:.2%} of windows (target >= 99%), "
            f"pinball {ratio:.4f}x the model's own intervals (target <= {TARGET_PINBALL}): "
            + ("both hold." if held else "NOT MET."),
            "",
            f"Replayed in {seconds:.0f} s here (`make report`, `python -m scripts.adaptive_report`).",
            "",
        ]
    )
    (out / "adaptive.md").write_text(text)
    payload = {"model_version": version, "step": step, "series": rows, "worst_inside_80": inside, "worst_ratio": ratio}
    (out / "adaptive.json").write_text(json.dumps(payload, indent=1) + "\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.adaptive_report", description=__doc__)
    parser.add_argument("--data", type=Path, nargs="+", default=sorted((ROOT / "training" / "data").glob("*.csv.gz")))
    parser.add_argument("--step", type=float, default=0.02, help="FORECAST_ADAPT_STEP (default 0.02)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        version = install_default(Path(tmp) / "models")
        env = {
            "FORECAST_MODEL_DIR": str(Path(tmp) / "models"),
            "FORECAST_STORE": str(Path(tmp) / "forecasts.sqlite"),
            "FORECAST_ADAPT": "aci",
            "FORECAST_ADAPT_STEP": str(args.step),
        }
        with server(service_argv(), "/health/ready", env) as running:
            rows = {csv.name: replayed(running["url"], csv) for csv in args.data}
    print(write(args.out, rows, str(version), args.step, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
