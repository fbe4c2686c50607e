"""One loaded model: load a version directory, check it, and predict(array)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from service.errors import ModelError
from service.model.card import Card, check_format, check_metadata, feature_kinds, read_card, read_signature
from service.model.golden import check_outputs
from service.model.runners import Runner
from service.model.sessions import (
    SessionConfig,
    build_runners,
    build_sessions,
    default_gpu_min_batch,
    requested_providers,
)

MAX_MODEL_BYTES = 512 * 1024 * 1024


@dataclass
class Forecaster:
    """A validated, warmed-up model ready to serve; swapped whole on reload, never changed in place."""

    version: str
    path: Path
    runners: dict[str, Runner]  # device -> runner; "cuda" first when present
    card: Card
    window: int
    requested: list[str]
    load_seconds: float
    providers: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=lambda: ["close"])
    horizon: int = 1
    quantiles: list[float] = field(default_factory=list)
    outputs: list[str] = field(default_factory=lambda: ["forecast"])
    kinds: list[str] = field(default_factory=lambda: ["ratio"])  # per feature, from the card
    gpu_min_batch: int = 0
    max_window: int = 0  # the longest window it reads; the card's window when it reads one length only
    batches: dict[str, int] = field(default_factory=dict)  # runs per device, for /model

    @property
    def univariate(self) -> bool:
        return len(self.features) == 1

    @property
    def longest(self) -> int:
        return max(self.max_window, self.window)

    def reads(self, length: int) -> bool:
        """Whether a window of this many prices is one the model answers."""
        return self.window <= length <= self.longest

    def lengths(self) -> str:
        """The lengths it reads, for error messages: 'exactly 60' or '60 to 1000'."""
        return f"exactly {self.window}" if self.longest == self.window else f"{self.window} to {self.longest}"

    @property
    def devices(self) -> list[str]:
        return list(self.runners)

    def device_for(self, batch: int) -> str:
        """Where a batch of this size runs: the GPU from gpu_min_batch windows up, the CPU below."""
        if "cuda" in self.runners and (batch >= self.gpu_min_batch or "cpu" not in self.runners):
            return "cuda"
        return "cpu"

    def predict(self, windows: np.ndarray, device: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(B, window[, F]) float32 -> forecasts (B, horizon) and quantiles (B, horizon, Q); Q may be 0."""
        device = device or self.device_for(len(windows))
        out = self.runners[device].run(windows)
        self.batches[device] = self.batches.get(device, 0) + 1
        batch = len(windows)
        forecast = out[0].reshape(batch, self.horizon)
        if len(out) == 1:
            return forecast, np.empty((batch, self.horizon, 0), dtype=np.float32)
        return forecast, out[1].reshape(batch, self.horizon, len(self.quantiles))

    def describe(self) -> dict[str, object]:
        """The model card the API shows: what was trained, how it scored, where it runs."""
        card = {k: v for k, v in self.card.items() if k not in ("golden", "history")}
        return {
            **card,
            "version": self.version,
            "execution_providers": self.providers,
            "requested_providers": self.requested,
            "placement": self.placement(),
            "load_seconds": round(self.load_seconds, 4),
        }

    def placement(self) -> dict[str, object]:
        """Which device runs which batches, and how many batches each has run."""
        return {
            "gpu_min_batch": self.gpu_min_batch if "cuda" in self.runners else None,
            "devices": {
                name: {**runner.describe(), "batches": self.batches.get(name, 0)}
                for name, runner in self.runners.items()
            },
        }


def load_forecaster(directory: Path, version: str, config: SessionConfig) -> Forecaster:
    """Loads and validates <registry>/<version>; raises ModelError with the reason if it must not serve."""
    started = time.perf_counter()
    card = read_card(directory, version)
    check_format(card)
    onnx_path = directory / "model.onnx"
    try:
        if onnx_path.stat().st_size > MAX_MODEL_BYTES:
            raise ModelError(f"model.onnx is larger than {MAX_MODEL_BYTES} bytes")
        onnx_bytes = onnx_path.read_bytes()
    except FileNotFoundError:
        raise ModelError("model.onnx is missing") from None
    sessions = build_sessions(onnx_bytes, config)
    first = next(iter(sessions.values()))
    signature = read_signature(card)
    kinds = feature_kinds(card, signature["features"])
    check_metadata(first, version, card["window"], len(signature["features"]), card["max_window"])
    if signature["quantiles"] and "quantiles" not in [o.name for o in first.get_outputs()]:
        raise ModelError("model.json lists quantiles but the graph has no 'quantiles' output")
    outputs = ["forecast", "quantiles"] if signature["quantiles"] else ["forecast"]
    runners = build_runners(sessions, onnx_bytes, config, outputs)
    forecaster = Forecaster(
        version=version,
        path=directory,
        runners=runners,
        card=card,
        window=card["window"],
        max_window=card["max_window"],
        requested=requested_providers(config.providers),
        providers=first.get_providers(),
        load_seconds=0.0,
        outputs=outputs,
        gpu_min_batch=default_gpu_min_batch(config, runners),
        kinds=kinds,
        **signature,
    )
    check_outputs(forecaster)
    forecaster.batches.clear()  # the golden runs are not traffic
    forecaster.load_seconds = time.perf_counter() - started
    return forecaster
