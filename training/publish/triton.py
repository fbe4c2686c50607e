"""Exports a registry version as a Triton model repository: <name>/config.pbtxt and <name>/<n>/model.onnx."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from training.core.config import TritonExport
from training.core.records import ModelCard
from training.publish import registry


def dims(values: list[int]) -> str:
    return "[ " + ", ".join(str(v) for v in values) + " ]"


def tensor_block(name: str, shape: list[int]) -> str:
    """One input/output entry; a per-item scalar is declared [1] and reshaped to [] as Triton requires."""
    if not shape:
        return (
            f'  {{\n    name: "{name}"\n    data_type: TYPE_FP32\n    dims: [ 1 ]\n    reshape: {{ shape: [ ] }}\n  }}'
        )
    return f'  {{\n    name: "{name}"\n    data_type: TYPE_FP32\n    dims: {dims(shape)}\n  }}'


def config_text(card: ModelCard, name: str, max_batch: int, kind: str, queue_delay_us: int) -> str:
    """config.pbtxt for the ONNX Runtime backend with dynamic batching."""
    window, horizon, features = card["window"], card.get("horizon", 1), card.get("features", ["close"])
    length = -1 if card.get("max_window", window) > window else window  # -1: Triton's variable-size dimension
    step = [horizon] if horizon > 1 else []
    inputs = [tensor_block("window", [length] if len(features) == 1 else [length, len(features)])]
    outputs = [tensor_block("forecast", step)]
    if card.get("quantiles"):
        outputs.append(tensor_block("quantiles", [*step, len(card["quantiles"])]))
    preferred = [b for b in (16, 64, 256) if b <= max_batch] or [max_batch]
    return "\n".join(
        [
            f'name: "{name}"',
            'platform: "onnxruntime_onnx"',
            f"max_batch_size: {max_batch}",
            "input [\n" + ",\n".join(inputs) + "\n]",
            "output [\n" + ",\n".join(outputs) + "\n]",
            "dynamic_batching {",
            f"  preferred_batch_size: {dims(preferred)}",
            f"  max_queue_delay_microseconds: {queue_delay_us}",
            "}",
            "instance_group [\n  {\n    count: 1\n" + f"    kind: {kind}\n" + "  }\n]",
            "version_policy: { latest: { num_versions: 1 } }",
            f'parameters: {{ key: "lstm_forecast_version" value: {{ string_value: "{card["version"]}" }} }}',
            "",
        ]
    )


def export_triton(job: TritonExport) -> Path:
    """Writes <out>/<name>/config.pbtxt and <out>/<name>/<triton_version>/model.onnx; returns the model dir."""
    if not job.registry.is_dir():
        raise ValueError(f"{job.registry}: no such registry directory; train one (train --out) or pass --registry")
    version = job.version or registry.current_version(job.registry)
    if version is None:
        raise ValueError(f"{job.registry}: no current version (no CURRENT file); pass --version or train one")
    if not registry.is_valid_version(version) or not (job.registry / version).is_dir():
        known = ", ".join(registry.list_versions(job.registry)) or "none"
        raise ValueError(f"{job.registry}: no such version {version!r}; it has {known}")
    card = json.loads((job.registry / version / "model.json").read_text())
    model_dir = job.out / job.name
    (model_dir / str(job.triton_version)).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(job.registry / version / "model.onnx", model_dir / str(job.triton_version) / "model.onnx")
    kind = "KIND_CPU" if job.cpu else "KIND_GPU"
    (model_dir / "config.pbtxt").write_text(config_text(card, job.name, job.max_batch, kind, job.queue_delay_us))
    return model_dir
