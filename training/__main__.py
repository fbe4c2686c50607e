"""Command line: `python -m training train | retrain | install-default | export-triton | evaluate ...`.

Each command's options are generated from its config dataclass (training/core/config.py for the product,
training/studies/jobs.py for the studies); torch loads only when a command runs, so `--help` and bad options
answer at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from training import commands
from training.core import options
from training.core.errors import DataError, ExportError, GateRefused
from training.publish.registry import RegistryBusy
from training.studies import commands as study_commands

# The product's commands first (what `make train`, `make serve` and the retraining job run), then the studies.
COMMANDS = {**commands.COMMANDS, **study_commands.COMMANDS}

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1
# What the trainer's commands import beyond the service's packages: `make install` (the train extra) brings them.
TRAINER_PACKAGES = ("torch", "onnx", "onnxscript", "arch", "pandas", "matplotlib", "tqdm", "scipy", "statsmodels")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's parser: one subparser per command, its options generated from the command's config."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        options.add_options(sub.add_parser(name, help=command.help, description=command.description), command.config)
    return parser


def missing_package(exc: ModuleNotFoundError, command: str) -> str | None:
    """The one line for a trainer package this environment lacks (make serve's venv has none), else None."""
    if (exc.name or "").split(".")[0] not in TRAINER_PACKAGES:
        return None
    return (
        f"`{command}` needs the trainer's packages, and {exc.name} is not installed here: run `make install` "
        "(torch's CPU build, onnx, arch, pandas, matplotlib; about 3 minutes), then this command again"
    )


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
    except ModuleNotFoundError as exc:
        message = missing_package(exc, args.command)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # ValueError: an option combination the model cannot take (e.g. --window 1 with vol); DataError is one
    except (DataError, RegistryBusy, ExportError, GateRefused, ValueError) as exc:
        if isinstance(exc, GateRefused):  # the scores behind the refusal, on stdout as when it passes
            print("\n".join(exc.summary), flush=True)
        message, code = failure(exc)
        print(f"error: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
