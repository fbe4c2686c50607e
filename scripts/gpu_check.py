"""GPU check: the service's CUDA path on 1,024 windows, its providers, and the max CUDA-vs-CPU difference."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from service.forecaster import ProviderError, SessionConfig, load_forecaster
from service.registry import RegistryError, read_current


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, default=Path("models"))
    args = parser.parse_args()
    try:
        version = read_current(args.models)
        cuda = load_forecaster(args.models / version, version, SessionConfig("cuda", 1))
    except (ProviderError, RegistryError) as exc:
        print(f"GPU check failed: {exc}")
        return 1
    cpu = load_forecaster(args.models / version, version, SessionConfig("cpu", 1))
    rng = np.random.default_rng(0)
    windows = (2500 * np.exp(np.cumsum(rng.normal(0, 0.01, (1024, cuda.window)), axis=1))).astype(np.float32)
    on_gpu, on_cpu = cuda.predict(windows), cpu.predict(windows)
    rel = np.abs(on_gpu - on_cpu) / np.abs(on_cpu)
    print(f"model {version}")
    print(f"providers in use (cuda mode): {cuda.providers}")
    print(f"providers in use (cpu mode):  {cpu.providers}")
    print(f"1024 windows: max abs diff {np.max(np.abs(on_gpu - on_cpu)):.3g}, max rel diff {rel.max():.3g}")
    return 0 if rel.max() < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
