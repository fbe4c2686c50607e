"""Command line: `python -m training train | retrain | evaluate | export-triton ...`.

Each command's options are generated from its config dataclass (training/config.py); torch loads only when a
command runs, so `--help` and bad options answer at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training import options
from training.config import (
    MIN_EVERY_SECONDS,
    AblationJob,
    EvaluateJob,
    FamilyReaderJob,
    InstallDefault,
    RetrainConfig,
    TrainJob,
    TritonExport,
    WindowLimitJob,
)
from training.data import DataError
from training.errors import ExportError
from training.metrics import GateRefused
from training.registry import RegistryBusy

log = logging.getLogger("training")

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def run_train(job: TrainJob) -> int:
    """`train`: train, verify and publish one version; CURRENT points at it."""
    from training.registry import current_version

    existing = current_version(job.out)
    if job.if_missing and existing and (job.out / existing / "model.onnx").is_file():
        print(f"{job.out} already has a current model ({existing}); not training (--if-missing)")
        return 0
    from training.version import train_and_publish

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
    from training.retrain import retrain, summary

    check_every(config)
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


def run_evaluate(job: EvaluateJob) -> int:
    """`evaluate`: walk-forward backtest, baselines, cross-asset, synthetic and out-of-range checks, report."""
    if job.leave_one_out:
        from training.loo_report import leave_one_out_report

        print("\n".join(leave_one_out_report(job)))
        return 0
    from training.report import evaluate_and_report

    print("\n".join(evaluate_and_report(job)))
    return 0


def run_ablation(job: AblationJob) -> int:
    """`ablation`: the seed's suggestions on the leave-one-asset-out protocol -> reports/ablation.md."""
    from training.ablation import run_ablation as ablate

    print("\n".join(ablate(job)))
    return 0


def run_window_limit(job: WindowLimitJob) -> int:
    """`window-limit`: the held-out simulated assets' true model over the window, and the bundled default model
    beside it -> reports/window_limit.md."""
    from training.window_limit import run_window_limit as measure

    print("\n".join(measure(job.out)))
    return 0


def run_family_reader(job: FamilyReaderJob) -> int:
    """`family-reader`: a 60-price Bayes reader that knows only the model family -> reports/family_reader.md."""
    from training.family_reader import run_family_reader as measure

    print("\n".join(measure(job.out, job.window)))
    return 0


def run_install_default(job: InstallDefault) -> int:
    """`install-default`: copy the bundled default model into an empty registry (torch-free, idempotent)."""
    from training.bundled import install_default

    version = install_default(job.out)
    if version is None:
        print(f"{job.out} already has a current model ({current(job.out)}); nothing installed")
    else:
        print(f"bundled default model {version} installed in {job.out} (CURRENT -> {version})")
    return 0


def current(out: Path) -> str | None:
    from training.registry import current_version

    return current_version(out)


def run_export_triton(job: TritonExport) -> int:
    """`export-triton`: a Triton model repository for the current (or given) version."""
    from training.triton import export_triton

    try:
        model_dir = export_triton(job)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    print(f"Triton model repository written: {model_dir}/config.pbtxt, {model_dir}/{job.triton_version}/model.onnx")
    return 0


@dataclass(frozen=True)
class Command:
    """One subcommand: its config dataclass, what runs it, and its help."""

    config: type
    run: Callable[[Any], int]
    help: str
    description: str


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
        "When the data are the files (and bytes) the champion was trained on, do nothing but record 'skipped'. "
        "Otherwise train a challenger on all data before the holdout (the newest --test-days trading days of "
        "every series), score it, the current champion, naive persistence, GARCH(1,1)-t and EWMA on that "
        "holdout, and promote the challenger only if it passes the quality gate and its pinball loss over all "
        "quantile levels beats the champion's by at least --min-improvement; append the decision and its table "
        "to <registry>/history.jsonl and prune old versions. Exit 0 when promoted, kept or skipped by decision, "
        "2 on bad input, 1 on failure.",
    ),
    "evaluate": Command(
        EvaluateJob,
        run_evaluate,
        "walk-forward backtest against naive and other baselines, with a report",
        "Rolling-origin backtest over the newest years: refit every --refit-every trading days on data strictly "
        "before each origin (first fold from scratch, later folds fine-tuned), forecast the following days, and "
        "score the model, naive, drift, EWMA, the min-max tutorial LSTM and a multivariate variant on the same "
        "days; then cross-asset and out-of-range checks; writes reports/<name>.md, PNG plots and <name>.json. "
        "Every --data file is pooled for training; the first one is the series scored (the cross-asset check "
        "scores --cross). With --leave-one-out, every --data file is scored instead, each by a model trained "
        "without it.",
    ),
    "ablation": Command(
        AblationJob,
        run_ablation,
        "the seed's five suggestions and a smaller model, each on the leave-one-asset-out protocol",
        "Run the leave-one-asset-out protocol (evaluate --leave-one-out) for the default model and for one "
        "change at a time: less or more training data, a longer window, a high-low range input, more layers, "
        "more units, a smaller model; write reports/ablation.md with wins, losses, coverage, training time "
        "and ONNX speed per row. 1.5-2 hours here.",
    ),
    "window-limit": Command(
        WindowLimitJob,
        run_window_limit,
        "what a 60-price window can reach on the held-out simulated assets, given their true model",
        "Forecast each held-out simulated asset of the leave-one-asset-out table by its own GJR recursion and "
        "innovation quantiles run over the 60-price window, with the long-run variance taken from the window, "
        "integrated out by Bayes' rule (the leverage known, or unknown under an even or a symmetric-leaning "
        "prior), or told the true one, and score each, and the bundled default model, against FHS, GARCH(1,1)-t "
        "and GJR-GARCH-skew-t on the protocol's days; then the model and the two nearest readers on 20 more paths "
        "of each asset's parameters; write reports/window_limit.md. About 25 minutes, most of it the Bayes rows.",
    ),
    "family-reader": Command(
        FamilyReaderJob,
        run_family_reader,
        "what a 60-price reader that knows only the model family reaches on the leave-one-asset-out table",
        "Forecast every series of the leave-one-asset-out table with a Bayes reader of the 60-price window: "
        "GJR-GARCH with skewed t innovations, persistence, news share, long-run and starting variance and the "
        "asset's type (symmetric, mild GJR, index-like GJR) integrated out under three priors on the type; score "
        "each prior as the table scores the model (same days and methods, Holm across series); write "
        "reports/family_reader.md (with --window other than 60, family_reader_w<window>.md, FHS reading as many "
        "prices, as the ablation's window row does). About 20-25 minutes here.",
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


def build_parser() -> argparse.ArgumentParser:
    """The CLI's parser: one subparser per command, its options generated from the command's config."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        options.add_options(sub.add_parser(name, help=command.help, description=command.description), command.config)
    return parser


def failure(exc: Exception) -> tuple[str, int]:
    """The one-line message and exit code of a known failure."""
    if isinstance(exc, ExportError):
        return f"export check failed, nothing published: {exc}", EXIT_FAILURE
    if isinstance(exc, GateRefused):
        return f"quality gate failed, nothing published (--force overrides): {exc}", EXIT_FAILURE
    return str(exc), EXIT_FAILURE if isinstance(exc, RegistryBusy) else EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run, and turn known failures into one-line messages with exit codes 2 (input) or 1."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    command = COMMANDS[args.command]
    try:
        return command.run(options.from_args(command.config, args))
    # ValueError: an option combination the model cannot take (e.g. --window 1 with vol); DataError is one
    except (DataError, RegistryBusy, ExportError, GateRefused, ValueError) as exc:
        if isinstance(exc, GateRefused):  # the scores behind the refusal, on stdout as when it passes
            print("\n".join(exc.summary), flush=True)
        message, code = failure(exc)
        print(f"error: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
