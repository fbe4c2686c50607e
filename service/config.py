"""The service's settings, read once at start-up from FORECAST_* environment variables (and .env)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.cpus import usable_cpus

MODEL_NAME = "lstm-forecast"  # the model's name in the inference protocol and the time-series API


class Settings(BaseSettings):
    """Every knob of the service; the README's settings table lists the same fields."""

    model_config = SettingsConfigDict(env_prefix="FORECAST_", env_file=".env", extra="ignore", protected_namespaces=())

    model_dir: Path = Field(Path("models"), description="Model registry root: <dir>/CURRENT names <dir>/<version>/.")
    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 inside a container).")
    port: int = Field(8000, ge=0, le=65535, description="TCP port to listen on.")
    providers: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="onnxruntime execution provider: auto (CUDA if available, else CPU), cpu, cuda.",
    )
    gpu_min_batch: int = Field(
        0,
        ge=0,
        le=65536,
        description="With CUDA, batches smaller than this run on a CPU session; 0 picks 48 with CUDA graphs, "
        "192 without (measured on an H200).",
    )
    cuda_graphs: bool = Field(
        True, description="With CUDA, capture a CUDA graph per power-of-two batch size at load and replay it."
    )
    max_batch: int = Field(1024, ge=1, le=65536, description="Most windows in one request and one ONNX run.")
    batch_wait_ms: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="Extra wait for company before a batch that is not full; 0: continuous batching (a batch "
        "runs as soon as the previous one ends, with every request that arrived meanwhile).",
    )
    inference_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="How much nicer (lower CPU priority, Linux) the inference thread is than the event loop, so "
        "that accepting and answering requests does not queue for a core behind a batch; 0: the same priority.",
    )
    switch_interval_ms: float = Field(
        0.5,
        gt=0,
        le=100,
        description="Python's GIL switch interval in each server process (sys.setswitchinterval). The inference "
        "thread needs the GIL for a moment after each run; at Python's default 5 ms it waits behind a busy event "
        "loop for up to that long per batch.",
    )
    max_queue: int = Field(
        8192,
        ge=1,
        description="Most windows waiting for inference; beyond it requests get 503 + Retry-After.",
    )
    request_timeout_ms: float = Field(
        10000, gt=0, description="A request waiting longer than this for its forecast gets 504."
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest request body accepted; larger ones get 413."
    )
    admin_token: SecretStr | None = Field(
        None, description="Bearer token for /admin/*; unset turns the admin endpoints off (404)."
    )
    reload_seconds: float = Field(
        5.0, ge=0, description="How often to poll CURRENT for a new version; 0 disables polling."
    )
    workers: int | Literal["auto"] = Field(
        1,
        description="Server processes on the one port, each with its own model session and batcher; auto: one "
        "per CPU this process may use. Intra-op threads are split between them.",
    )
    intra_op_threads: int = Field(
        0,
        ge=0,
        description="onnxruntime intra-op threads per worker; 0 means the CPUs this process may really use, "
        "divided among the workers.",
    )
    parallel_min_batch: int = Field(
        128,
        ge=1,
        description="On CPU, batches of at least this many windows run on every intra-op thread, smaller ones on "
        "one (concurrent clients make small batches, and the event loop needs a core to answer them); 1: all on "
        "every thread.",
    )
    fast_path: bool = Field(True, description="Answer POST /predict ahead of FastAPI's router (same answers).")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed by CORS, comma-separated or a JSON list; empty turns CORS off.",
    )

    record: bool = Field(
        True,
        description="Record every answered forecast, score it against the price that follows and serve "
        "/calibration and /outcomes; false turns all of it off.",
    )
    store: str = Field(
        "",
        description="Where forecasts and outcomes are kept: a SQLite file (created when missing), or a "
        "postgresql:// URL for several processes, replicas or pods; empty: forecasts.sqlite beside the registry.",
    )
    record_queue: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        description="Most answered forecasts waiting to be recorded; more are dropped and counted. A server "
        "process killed loses these at most (its writer process writes what it was sent); the whole machine, these "
        "and two batches of 2,000 more.",
    )
    store_retention_days: float = Field(
        730.0, gt=0, description="Forecasts, their windows and outcomes older than this are deleted."
    )
    adapt: Literal["off", "aci"] = Field(
        "off",
        description="aci: scale each series' central intervals online from its own misses (adaptive conformal "
        "inference); off: the model's intervals as trained.",
    )
    adapt_step: float = Field(0.02, gt=0, le=0.5, description="With FORECAST_ADAPT=aci, the step size gamma.")
    outcomes_token: SecretStr | None = Field(
        None, description="Bearer token POST /outcomes requires; unset: any client may post outcomes."
    )
    metrics_series: int = Field(
        20, ge=1, le=1000, description="Series named in the metrics' labels (the busiest); the rest are 'other'."
    )
    outcome_wait_ms: float = Field(
        2000.0,
        ge=0,
        le=60_000,
        description="How long POST /outcomes waits for a forecast that another worker has answered but not yet "
        "recorded, before it is refused as unknown.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def split_origins(cls, value: object) -> object:
        """'https://a.org,https://b.org' or '["https://a.org"]' -> a list of origins."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                raise ValueError(f"not a JSON list: {text[:80]!r}; or give origins separated by commas") from None
        return [origin.strip() for origin in text.split(",") if origin.strip()]

    @field_validator("workers")
    @classmethod
    def at_least_one_worker(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 256:
            raise ValueError(f"workers must be 1..256 or 'auto', got {value}")
        return value

    def store_location(self) -> str:
        """The store: FORECAST_STORE, else forecasts.sqlite beside the model registry."""
        return self.store or str(self.model_dir.resolve().parent / "forecasts.sqlite")

    def worker_count(self) -> int:
        """The number of server processes: `auto` is the CPUs this process may really use."""
        return usable_cpus() if self.workers == "auto" else int(self.workers)

    def threads_per_worker(self) -> int:
        """onnxruntime intra-op threads for each worker, so that all workers together fit the usable CPUs."""
        return self.intra_op_threads or max(1, usable_cpus() // self.worker_count())

    @model_validator(mode="after")
    def queue_holds_a_batch(self) -> Settings:
        if self.max_queue < self.max_batch:
            raise ValueError(
                f"FORECAST_MAX_QUEUE ({self.max_queue}) must be at least FORECAST_MAX_BATCH ({self.max_batch})"
            )
        return self
