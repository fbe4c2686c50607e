"""The product's commands: train and publish, retrain, install the bundled default, export for Triton."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from training.core.config import GATE_RULES, MIN_EVERY_SECONDS, InstallDefault, RetrainConfig, TrainJob, TritonExport
from training.core.errors import DataError, ExportError
from training.core.options import Command
from training.publish.registry import RegistryBusy

log = logging.getLogger("training")


def run_train(job: TrainJob) -> int:
    """`train`: train, verify and publish one version; CURRENT points at it."""
    from training.publish.registry import current_version

    existing = current_version(job.out)
    if job.if_missing and existing and (job.out / existing / "model.onnx").is_file():
        print(f"{job.out} already has a current model ({existing}); not training (--if-missing)")
        return 0
    from training.publish.build import train_and_publish

    built = train_and_publish(job.train, job.out, force=job.force)
    print("\n".join(built.summary))
    print(f"model {built.version} written to {job.out / built.version} (CURRENT -> {built.version})")
    return 0


def check_every(config: RetrainConfig) -> None:
    """--every below MIN_EVERY_SECONDS needs --allow-short-every: each round may publish a version."""
    if config.every is not None and config.every < MIN_EVERY_SECONDS and not config.allow_short_every:
        raise DataError(
            f"--every {config.every:g}s is shorter than {MIN_EVERY_SECONDS / 3600:g}h; each round may publish a "
            "new version and reload every replica. Use e.g. --every 24h, or add --allow-short-every"
        )


def run_retrain(config: RetrainConfig) -> int:
    """`retrain`: one champion/challenger round, or one every --every seconds until stopped."""
    from training.publish.retrain import check_registry, retrain, summary

    check_every(config)
    check_registry(config)  # before the first round: a mistyped --registry stops the job at once
    while True:
        try:
            print(summary(retrain(config)), flush=True)
        except (DataError, ExportError, RegistryBusy) as exc:
            if config.every is None:
                raise
            log.error("retrain round failed: %s", exc)
        if config.every is None:
            return 0
        log.info("next retrain round in %.0f s", config.every)
        time.sleep(config.every)


def run_install_default(job: InstallDefault) -> int:
    """`install-default`: copy the bundled default model into an empty registry (torch-free, idempotent)."""
    from training.publish.bundled import install_default

    version = install_default(job.out)
    if version is None:
        print(f"{job.out} already has a current model ({current(job.out)}); nothing installed")
    else:
        print(f"bundled default model {version} installed in {job.out} (CURRENT -> {version})")
    return 0


def current(out: Path) -> str | None:
    from training.publish.registry import current_version

    return current_version(out)


def run_export_triton(job: TritonExport) -> int:
    """`export-triton`: a Triton model repository for the current (or given) version."""
    from training.publish.triton import export_triton

    try:
        model_dir = export_triton(job)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    print(f"Triton model repository written: {model_dir}/config.pbtxt, {model_dir}/{job.triton_version}/model.onnx")
    return 0


COMMANDS = {  # a table, not logic: the texts `--help` shows
    "train": Command(
        TrainJob,
        run_train,
        "train a model and publish it as the current version",
        "Train a stacked LSTM on daily prices, score it next to naive persistence on the test split, export it "
        "to ONNX (normalisation in the graph), verify the export, and publish it in the registry.",
    ),
    "retrain": Command(
        RetrainConfig,
        run_retrain,
        "train a challenger and promote it only if it beats the champion",
        "When the data are the files (and bytes) and simulated paths the champion was trained on, do nothing but "
        "record 'skipped'. Otherwise train a challenger on all data before the holdout (the newest --test-days "
        "trading days of every series), score it, the current champion, naive persistence and the simple "
        "interval methods (FHS, GARCH(1,1)-t, GJR-GARCH-skew-t, EWMA) on that holdout, and promote the "
        f"challenger only if it passes the quality gate ({GATE_RULES}) and its pinball loss over all quantile "
        "levels beats the champion's by at least --min-improvement, significantly; append the decision and its "
        "table to <registry>/history.jsonl and prune old versions. A --registry with no current model is refused "
        "unless --new-registry. Exit 0 when promoted, kept or skipped by decision, 2 on bad input, 1 on failure.",
    ),
    "install-default": Command(
        InstallDefault,
        run_install_default,
        "copy the bundled default model into a registry that has none",
        "Copy the default model shipped with the project (training/bundled/, trained by `train` with every "
        "default option; its card says on what) into <out>/<version>/ and point CURRENT at it, unless the "
        "registry already has a current model. Needs no torch and takes a second: `make serve` and the "
        "compose trainer start from it instead of training.",
    ),
    "export-triton": Command(
        TritonExport,
        run_export_triton,
        "write a Triton Inference Server model repository",
        "Copy a registry version's model.onnx into <out>/<name>/<n>/ and write a config.pbtxt for Triton's "
        "ONNX Runtime backend with dynamic batching.",
    ),
}
