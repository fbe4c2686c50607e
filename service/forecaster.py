"""One loaded model: its onnxruntime sessions (per device), the load-time checks, predict(array)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import onnxruntime as ort

from service.errors import InvalidInput
from service.runners import GraphRunner, Runner, SessionRunner, SplitRunner

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
GOLDEN_RTOL = 1e-4
MAX_MODEL_BYTES = 512 * 1024 * 1024


class ModelError(Exception):
    """A version directory that must not be served, with the reason."""


class ProviderError(Exception):
    """The requested execution provider is not available or not active."""


def requested_providers(mode: str, available: list[str] | None = None) -> list[str]:
    """The provider list to ask onnxruntime for; `cuda` without CUDA available raises ProviderError."""
    available = ort.get_available_providers() if available is None else available
    if mode == "cpu":
        return [CPU]
    if CUDA in available:
        return [CUDA, CPU]
    if mode == "cuda":
        raise ProviderError(
            f"FORECAST_PROVIDERS=cuda but onnxruntime offers only {available}; install onnxruntime-gpu "
            "with a matching CUDA/cuDNN and run on an NVIDIA GPU, or set FORECAST_PROVIDERS=auto|cpu"
        )
    return [CPU]


def check_active_provider(mode: str, active: list[str]) -> None:
    """onnxruntime silently falls back to CPU when CUDA fails to initialise: refuse that for mode=cuda."""
    if mode == "cuda" and (not active or active[0] != CUDA):
        raise ProviderError(
            f"FORECAST_PROVIDERS=cuda but the session runs on {active}: the CUDA provider failed to "
            "initialise (check the CUDA/cuDNN libraries and the driver)"
        )


# Below these batch sizes a CPU session answers sooner than the GPU (H200, 16 cores, the default model):
# CUDA's ~4 ms launch floor per run loses to the CPU up to ~200 windows; captured graphs cut it to ~1.1 ms.
GPU_MIN_BATCH_PLAIN = 192
GPU_MIN_BATCH_GRAPHS = 48


@dataclass(frozen=True)
class SessionConfig:
    """How to build onnxruntime sessions: provider mode, threads, and how batches are placed on a GPU."""

    providers: str = "auto"
    intra_op_threads: int = 1
    gpu_min_batch: int = 0  # 0: from the measurements above
    cuda_graphs: bool = True
    max_batch: int = 1024
    parallel_min_batch: int = 128  # CPU batches this large use every intra-op thread; smaller ones, one


def plan_devices(config: SessionConfig) -> dict[str, list]:
    """Device name -> the providers of its session; with CUDA, a CPU session too for the small batches."""
    requested = requested_providers(config.providers)
    if requested[0] != CUDA:
        return {"cpu": [CPU]}
    cuda_options = {"enable_cuda_graph": "1"} if config.cuda_graphs else {}
    return {"cuda": [(CUDA, cuda_options), CPU], "cpu": [CPU]}


KINDS = ("ratio", "volume", "level")
# model.json as read: untrusted until read_card, read_signature, feature_kinds and check_format have checked
# the parts the service uses (the trainer's ModelCard in training/tables.py is the full shape).
Card = dict[str, Any]


class Signature(TypedDict):
    """What a model takes and gives, from its card: input features, days ahead, quantile levels."""

    features: list[str]
    horizon: int
    quantiles: list[float]


FORMAT_NAME, FORMAT_MAJOR = "lstm-forecast", 1  # the model-card format this service reads


def feature_kinds(card: Card, features: list[str]) -> list[str]:
    """'ratio' (a positive price), 'volume' or 'level' per feature, as the trainer wrote them in the card.

    Only a one-feature close-price model (the minmax normaliser's) may omit them: its one kind is a price.
    """
    kinds = (card.get("normalization") or {}).get("feature_kinds")
    if kinds is None and features == ["close"]:
        return ["ratio"]
    if not (isinstance(kinds, list) and len(kinds) == len(features) and all(k in KINDS for k in kinds)):
        raise ModelError(f"model.json normalization.feature_kinds must list one of {KINDS} per feature, got {kinds!r}")
    return list(kinds)


def check_format(card: Card) -> None:
    """The card's format must be one this service reads: 'lstm-forecast/<major>' with major 1 (or absent)."""
    fmt = card.get("format", f"{FORMAT_NAME}/{FORMAT_MAJOR}")
    name, _, version = str(fmt).partition("/")
    major = version.split(".")[0]
    if name != FORMAT_NAME or not major.isdigit():
        raise ModelError(f"model.json format {fmt!r} is not a {FORMAT_NAME} model card")
    if int(major) != FORMAT_MAJOR:
        raise ModelError(
            f"model.json format {fmt!r} is major version {major}; this service reads {FORMAT_NAME}/{FORMAT_MAJOR} "
            "(upgrade the service, or publish the model with a matching trainer)"
        )


# float64 values that float32 holds as finite: under 2**128 - 2**103 (from there the cast rounds to inf).
FLOAT32_LIMIT = 2.0**128 - 2.0**103
# Magnitudes at or under half float32's smallest subnormal become (-)0 in float32.
FLOAT32_ZERO = float(np.finfo(np.float32).smallest_subnormal) / 2
# kind -> (lower bound, whether the bound itself is allowed), as the float32 values will see it
LOWEST = {"ratio": (FLOAT32_ZERO, False), "volume": (-FLOAT32_ZERO, True), "level": (-FLOAT32_LIMIT, False)}


def checked_float32(array: np.ndarray, kind: str, where: Callable[[int, int], str]) -> np.ndarray:
    """float32 values (what the model sees); prices must be positive, volumes >= 0, all finite in float32."""
    # Two reductions decide the common case; NaN propagates into both and fails every comparison.
    lo, hi = float(array.min()), float(array.max())
    bound, inclusive = LOWEST.get(kind, LOWEST["level"])
    if (lo >= bound if inclusive else lo > bound) and hi < FLOAT32_LIMIT:
        return array.astype(np.float32)
    bad = ~((array >= bound if inclusive else array > bound) & (array < FLOAT32_LIMIT))
    row, col = (int(i) for i in np.argwhere(bad)[0])
    rule = {"ratio": "positive finite numbers", "volume": "finite numbers >= 0"}.get(kind, "finite numbers")
    raise InvalidInput(
        f"{where(row, col)} is {float(array[row, col])!r}; values must be {rule} (below 3.4e38); "
        f"{int(bad.sum())} value(s) are not"
    )


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
    batches: dict[str, int] = field(default_factory=dict)  # runs per device, for /model

    @property
    def univariate(self) -> bool:
        return len(self.features) == 1

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


def make_session(
    onnx_bytes: bytes, config: SessionConfig, providers: list[str | tuple[str, dict[str, Any]]]
) -> ort.InferenceSession:
    """An onnxruntime session with graph optimisation on and our thread count."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = config.intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # onnxruntime's own warnings go to stderr otherwise
    # Idle intra-op threads otherwise spin for a while after each run, taking the CPU the event loop needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(onnx_bytes, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise ModelError(f"onnxruntime cannot load model.onnx: {first_line(exc)}") from None


def build_sessions(onnx_bytes: bytes, config: SessionConfig) -> dict[str, ort.InferenceSession]:
    """One session per planned device; a CUDA one must really run on CUDA when cuda was asked for."""
    sessions = {}
    for device, providers in plan_devices(config).items():
        sessions[device] = make_session(onnx_bytes, config, providers)
        if device == "cuda":
            check_active_provider(config.providers, sessions[device].get_providers())
    return sessions


def build_runners(
    sessions: dict[str, ort.InferenceSession], onnx_bytes: bytes, config: SessionConfig, outputs: list[str]
) -> dict[str, Runner]:
    """A runner per session: the CPU one keeps a one-thread session for small batches when it has more threads;
    the GPU one replays captured graphs unless they are off or cannot be captured."""
    runners: dict[str, Runner] = {}
    for device, session in sessions.items():
        plain = SessionRunner(session, outputs)
        runners[device] = plain
        if device == "cpu" and config.intra_op_threads > 1 and config.parallel_min_batch > 1:
            runners[device] = split_threads(plain, onnx_bytes, config, outputs)
        if device == "cuda" and config.cuda_graphs:
            runners[device] = graph_runner(session, outputs, config) or plain_cuda(onnx_bytes, config, outputs)
    return runners


def split_threads(parallel: SessionRunner, onnx_bytes: bytes, config: SessionConfig, outputs: list[str]) -> SplitRunner:
    """The CPU runner with a one-thread session of its own for the batches under parallel_min_batch."""
    single = make_session(onnx_bytes, replace(config, intra_op_threads=1), [CPU])
    return SplitRunner(SessionRunner(single, outputs), parallel, config.parallel_min_batch)


def graph_runner(session: ort.InferenceSession, outputs: list[str], config: SessionConfig) -> GraphRunner | None:
    """Captured graphs for every batch size up to max_batch, or None (logged) when capture fails."""
    try:
        runner = GraphRunner(session, outputs, config.max_batch)
        runner.capture()
    except Exception as exc:  # e.g. a node the CUDA provider does not run: graphs need all of them on it
        log.warning("CUDA graphs could not be captured (%s); running the GPU session without them", first_line(exc))
        return None
    return runner


def plain_cuda(onnx_bytes: bytes, config: SessionConfig, outputs: list[str]) -> SessionRunner:
    """A CUDA session without graph capture (a session with capture enabled cannot run without it)."""
    session = make_session(onnx_bytes, config, plan_devices(replace(config, cuda_graphs=False))["cuda"])
    check_active_provider(config.providers, session.get_providers())
    return SessionRunner(session, outputs)


def default_gpu_min_batch(config: SessionConfig, runners: dict[str, Runner]) -> int:
    """The setting, or the measured crossover: lower when the GPU replays captured graphs."""
    if config.gpu_min_batch:
        return config.gpu_min_batch
    graphs = isinstance(runners.get("cuda"), GraphRunner)
    return GPU_MIN_BATCH_GRAPHS if graphs else GPU_MIN_BATCH_PLAIN


def first_line(exc: BaseException) -> str:
    """An exception's message, one line, bounded."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def read_card(directory: Path, version: str) -> Card:
    """model.json, which must be a JSON object naming this version and its window."""
    try:
        card = json.loads((directory / "model.json").read_text())
    except FileNotFoundError:
        raise ModelError("model.json is missing") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"model.json is not valid JSON: {first_line(exc)}") from None
    if not isinstance(card, dict):
        raise ModelError("model.json is not a JSON object")
    if card.get("version") != version:
        raise ModelError(f"model.json names version {card.get('version')!r}, not {version!r}")
    window = card.get("window")
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 100_000:
        raise ModelError(f"model.json has no valid window length (got {window!r})")
    return card


def read_signature(card: Card) -> Signature:
    """features, horizon and quantile levels from model.json (older cards: one feature, one day, none)."""
    features = card.get("features", ["close"])
    horizon = card.get("horizon", 1)
    quantiles = card.get("quantiles", [])
    if not (isinstance(features, list) and features and all(isinstance(f, str) for f in features)):
        raise ModelError(f"model.json features must be a list of names, got {features!r}")
    if not isinstance(horizon, int) or isinstance(horizon, bool) or not 1 <= horizon <= 100:
        raise ModelError(f"model.json horizon must be 1..100, got {horizon!r}")
    if not (isinstance(quantiles, list) and all(isinstance(q, float) and 0 < q < 1 for q in quantiles)):
        raise ModelError(f"model.json quantiles must be levels in (0, 1), got {quantiles!r}")
    if quantiles and (quantiles != sorted(quantiles) or 0.5 not in quantiles):
        raise ModelError("model.json quantiles must be sorted and include 0.5")
    return {"features": features, "horizon": horizon, "quantiles": quantiles}


def check_metadata(session: ort.InferenceSession, version: str, window: int, features: int = 1) -> None:
    """The graph's own metadata and signature must agree with model.json."""
    meta = session.get_modelmeta().custom_metadata_map
    if meta.get("version") != version:
        raise ModelError(f"ONNX metadata names version {meta.get('version')!r}, not {version!r}")
    if meta.get("window") != str(window):
        raise ModelError(f"ONNX metadata window {meta.get('window')!r} differs from model.json's {window}")
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if [i.name for i in inputs] != ["window"] or inputs[0].type != "tensor(float)":
        raise ModelError(f"expected one float input 'window', got {[(i.name, i.type) for i in inputs]}")
    shape = inputs[0].shape
    expected = [window] if features == 1 else [window, features]
    if shape[1:] != expected or (isinstance(shape[0], int) and shape[0] != -1):
        raise ModelError(f"input 'window' has shape {shape}; expected [batch, {', '.join(map(str, expected))}]")
    if "forecast" not in [o.name for o in outputs]:
        raise ModelError(f"no output 'forecast' (outputs: {[o.name for o in outputs]})")


def golden_arrays(forecaster: Forecaster) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The trainer's reference windows, forecasts (n, h) and quantiles (n, h, Q) from model.json."""
    golden = forecaster.card.get("golden")
    if not isinstance(golden, list) or not golden:
        raise ModelError("model.json has no golden reference windows")
    n, h = len(golden), forecaster.horizon
    try:
        windows = np.array([g["window"] for g in golden], dtype=np.float32)
        expected = np.array([g["forecast"] for g in golden], dtype=np.float64).reshape(n, h)
        expected_q = np.array([g.get("quantiles", []) for g in golden], dtype=np.float64).reshape(n, h, -1)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ModelError("model.json golden references are malformed") from None
    want_shape = (forecaster.window,) if forecaster.univariate else (forecaster.window, len(forecaster.features))
    if windows.shape[1:] != want_shape:
        raise ModelError(f"golden windows have shape {windows.shape}, expected (n, {want_shape})")
    return windows, expected, expected_q


def check_outputs(forecaster: Forecaster) -> None:
    """On every device, and at every captured batch size, the golden windows give torch's forecasts (1e-4)."""
    windows, expected, expected_q = golden_arrays(forecaster)
    for device, runner in forecaster.runners.items():
        sizes = golden_sizes(runner, len(windows))
        for size in sizes:
            rows = np.arange(size) % len(windows)  # the golden windows repeated to fill the batch
            where = device if len(sizes) == 1 else f"{device}, batch {size}"
            check_golden(forecaster, device, windows[rows], expected[rows], expected_q[rows], where)


def golden_sizes(runner: Runner, golden: int) -> list[int]:
    """The batch sizes that reach each of a runner's sessions (or captured graphs) with the golden windows."""
    if isinstance(runner, GraphRunner):
        return [s.size for s in runner.slots]
    if isinstance(runner, SplitRunner):
        return sorted({min(golden, runner.parallel_from - 1), max(golden, runner.parallel_from)})
    return [golden]


def check_golden(
    forecaster: Forecaster, device: str, windows: np.ndarray, expected: np.ndarray, expected_q: np.ndarray, where: str
) -> None:
    """One golden run on one device: finite, the right number of quantiles, within GOLDEN_RTOL."""
    q = len(forecaster.quantiles)
    try:
        got, got_q = forecaster.predict(windows, device)
    except Exception as exc:  # any onnxruntime failure here means the model is unusable
        raise ModelError(f"warm-up run failed ({where}): {first_line(exc)}") from None
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(got_q))):
        raise ModelError(f"warm-up run gave non-finite forecasts ({where})")
    if got_q.shape[-1] != q or (q and expected_q.shape != got_q.shape):
        raise ModelError(f"quantiles output has {got_q.shape[-1]} levels; model.json lists {q}")
    rel = max(relative_difference(got, expected), relative_difference(got_q, expected_q) if q else 0.0)
    if rel > GOLDEN_RTOL:
        suffix = "" if where == "cpu" else f" on {where}"
        raise ModelError(f"golden check failed: forecasts differ from the trainer's by {rel:.3g} relative{suffix}")


def relative_difference(got: np.ndarray, expected: np.ndarray) -> float:
    """Largest |got - expected| / |expected|."""
    return float(np.max(np.abs(got.astype(np.float64) - expected) / np.maximum(np.abs(expected), 1e-12)))


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
    check_metadata(first, version, card["window"], len(signature["features"]))
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
