"""GPU check: the service's CUDA path on 1,024 windows, its providers, and the largest CUDA-vs-CPU difference
in forecasts and quantiles. `compare` is exercised in make test on CPU vs CPU, so the script cannot rot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from service.forecaster import Forecaster, ModelError, ProviderError, SessionConfig, load_forecaster
from service.registry import RegistryError, read_current

MAX_REL_DIFF = 1e-4  # the service's own golden-check tolerance


def sample_windows(count: int, window: int, seed: int = 0) -> np.ndarray:
    """Random-walk price windows around 2,500 with 1% daily moves, float32."""
    rng = np.random.default_rng(seed)
    return (2500 * np.exp(np.cumsum(rng.normal(0, 0.01, (count, window)), axis=1))).astype(np.float32)


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b) / np.maximum(np.abs(b.astype(np.float64)), 1e-12)))


def compare(candidate: Forecaster, reference: Forecaster, windows: np.ndarray) -> dict[str, float]:
    """Largest relative difference of forecasts and of quantiles between two loaded models."""
    (f_a, q_a), (f_b, q_b) = candidate.predict(windows), reference.predict(windows)
    return {"forecast": relative(f_a, f_b), "quantiles": relative(q_a, q_b) if q_b.size else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, default=Path("models"))
    args = parser.parse_args()
    try:
        version = read_current(args.models)
        cuda = load_forecaster(args.models / version, version, SessionConfig("cuda", 1))
    except (ProviderError, RegistryError, ModelError) as exc:
        print(f"GPU check failed: {exc}")
        return 1
    cpu = load_forecaster(args.models / version, version, SessionConfig("cpu", 1))
    diff = compare(cuda, cpu, sample_windows(1024, cuda.window))
    print(f"model {version}")
    print(f"providers in use (cuda mode): {cuda.providers}")
    print(f"providers in use (cpu mode):  {cpu.providers}")
    print(f"1024 windows: max rel diff forecasts {diff['forecast']:.3g}, quantiles {diff['quantiles']:.3g}")
    return 0 if max(diff.values()) < MAX_REL_DIFF else 1


if __name__ == "__main__":
    sys.exit(main())
