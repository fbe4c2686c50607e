"""Command line: `python -m training train | retrain | evaluate | export-triton ...`."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from training.config import CELLS, NORMALIZATIONS, LSTMConfig, TrainConfig
from training.data import BUNDLED_DATA, DEFAULT_TRAINING_DATA, DataError, parse_extras
from training.errors import ExportError
from training.metrics import MIN_PINBALL_IMPROVEMENT, GateRefused
from training.registry import RegistryBusy

log = logging.getLogger("training")

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def unit_float(text: str) -> float:
    """argparse type: a float in [0, 1)."""
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def feature_list(text: str) -> list[str]:
    """argparse type: 'close,volume' -> ['close', 'volume'] (close first, no duplicates)."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    return ["close", *dict.fromkeys(n for n in names if n != "close")]


def horizon_days(text: str) -> int:
    """argparse type: an integer in 1..10."""
    value = int(text)
    if not 1 <= value <= 10:
        raise argparse.ArgumentTypeError(f"must be 1..10 trading days, got {value}")
    return value


def quantile_list(text: str) -> tuple[float, ...]:
    """argparse type: '0.1,0.9' -> (0.1, 0.5, 0.9), sorted, each in (0, 1)."""
    try:
        levels = {round(float(v), 6) for v in text.split(",") if v.strip()} | {0.5}
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not all(0 < q < 1 for q in levels):
        raise argparse.ArgumentTypeError(f"quantile levels must lie strictly between 0 and 1: {text!r}")
    return tuple(sorted(levels))


def add_train_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `train` and `retrain`: data, split and model shape, optimisation."""
    d, m = TrainConfig(), LSTMConfig()
    p.add_argument(
        "--data",
        type=Path,
        action="append",
        default=None,
        help="daily price CSV (.csv or .csv.gz; comma, semicolon or tab): Yahoo OHLCV, the tutorial format "
        "with quoted thousands, or DATE,VALUE; repeat it to train on several series at once, each split "
        "in time on its own (default: the bundled S&P 500 and NASDAQ Composite)",
    )
    p.add_argument(
        "--column",
        default=None,
        help="price column to forecast, case-insensitive (default: 'Adj Close' if the file has "
        "it, else 'Close', else the only value column)",
    )
    p.add_argument(
        "--features",
        type=feature_list,
        default=["close"],
        help="comma-separated input features, 'close' (the --column price, always first) plus any of "
        "open, high, low, volume, hl_range ((High-Low)/Close), <name>_close from --extra "
        "(default: close alone)",
    )
    p.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="another daily CSV joined on date, usable as feature NAME_close "
        "(e.g. --extra nasdaq=training/data/nasdaq.csv.gz); repeatable",
    )
    p.add_argument(
        "--horizon",
        type=horizon_days,
        default=m.horizon,
        help="trading days forecast at once, 1..10 (default %(default)s)",
    )
    p.add_argument(
        "--quantiles",
        type=quantile_list,
        default=m.quantiles,
        help="quantile levels of the interval output, comma-separated; 0.5 is always included "
        "(default: 0.025,0.1,0.5,0.9,0.975)",
    )
    p.add_argument(
        "--window",
        type=positive_int,
        default=m.window,
        help="past days per window (default %(default)s)",
    )
    p.add_argument(
        "--normalize",
        choices=NORMALIZATIONS,
        default=d.normalize,
        help="'vol': log-returns divided by the window's own EWMA volatility, so that intervals scale "
        "with any asset's volatility and price level; 'window': log(p/p_last) over a fixed training-period "
        "scale; 'minmax': the tutorial's global scaler fitted on training prices (default %(default)s)",
    )
    p.add_argument(
        "--no-conformal",
        action="store_true",
        help="skip the split-conformal step that scales the quantiles on the validation split",
    )
    p.add_argument("--cell", choices=CELLS, default=m.cell, help="recurrent cell (default %(default)s)")
    p.add_argument("--layers", type=positive_int, default=m.layers, help="stacked layers (default %(default)s)")
    p.add_argument(
        "--hidden",
        type=positive_int,
        default=m.hidden,
        help="units per layer (default %(default)s)",
    )
    p.add_argument(
        "--dropout",
        type=unit_float,
        default=m.dropout,
        help="dropout between layers (default %(default)s)",
    )
    p.add_argument("--epochs", type=positive_int, default=d.epochs, help="most epochs (default %(default)s)")
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=d.batch_size,
        help="windows per optimiser step (default %(default)s)",
    )
    p.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate (default %(default)s)")
    p.add_argument(
        "--patience",
        type=positive_int,
        default=d.patience,
        help="stop after this many epochs without a better validation loss; the best epoch's "
        "weights are kept (default %(default)s)",
    )
    p.add_argument(
        "--val-days",
        type=positive_int,
        default=d.val_days,
        help="validation split: trading days before the test split (default %(default)s)",
    )
    p.add_argument(
        "--test-days",
        type=positive_int,
        default=d.test_days,
        help="test split: the newest trading days, never trained on (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=d.seed, help="random seed (default %(default)s)")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads (default 0: the CPUs this process may use)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace, out: Path) -> TrainConfig:
    """A TrainConfig from parsed options."""
    return TrainConfig(
        data=args.data or list(DEFAULT_TRAINING_DATA),
        conformal=not args.no_conformal,
        column=args.column,
        out=out,
        normalize=args.normalize,
        features=args.features,
        extras=parse_extras(args.extra),
        model=LSTMConfig(
            window=args.window,
            cell=args.cell,
            layers=args.layers,
            hidden=args.hidden,
            dropout=args.dropout,
            features=len(args.features),
            horizon=args.horizon,
            quantiles=args.quantiles,
        ),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        val_days=args.val_days,
        test_days=args.test_days,
        seed=args.seed,
        threads=args.threads,
        progress=not args.no_progress,
    )


def run_train(args: argparse.Namespace) -> int:
    """`train`: train, verify and publish one version; CURRENT points at it."""
    from training.registry import current_version

    existing = current_version(args.out)
    if args.if_missing and existing and (args.out / existing / "model.onnx").is_file():
        print(f"{args.out} already has a current model ({existing}); not training (--if-missing)")
        return 0
    from training.version import train_and_publish

    built = train_and_publish(config_from_args(args, args.out), force=args.force)
    print(f"model {built.version} written to {args.out / built.version} (CURRENT -> {built.version})")
    return 0


MIN_EVERY_SECONDS = 3600.0  # a retraining loop faster than hourly is almost surely a typo (24 for 24h)


def duration(text: str) -> float:
    """argparse type: '90s', '30m', '24h' or '7d' -> seconds; a bare number is refused (24 meant 24h?)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    if text[-1:] not in units:
        raise argparse.ArgumentTypeError(f"{text!r} has no unit; write it with one, e.g. 24h, 30m, 1d or 90s")
    try:
        value = float(text[:-1]) * units[text[-1]]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 30m, 24h, 7d)") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive duration, got {text!r}")
    return value


def check_every(args: argparse.Namespace) -> None:
    """--every below MIN_EVERY_SECONDS needs --allow-short-every: each round may publish a version."""
    if args.every is not None and args.every < MIN_EVERY_SECONDS and not args.allow_short_every:
        raise DataError(
            f"--every {args.every:g}s is shorter than {MIN_EVERY_SECONDS / 3600:g}h; each round may publish a "
            "new version and reload every replica. Use e.g. --every 24h, or add --allow-short-every"
        )


def run_retrain(args: argparse.Namespace) -> int:
    """`retrain`: one champion/challenger round, or one every --every seconds until stopped."""
    from training.retrain import RetrainConfig, retrain, summary

    check_every(args)
    config = RetrainConfig(
        train=config_from_args(args, args.registry),
        registry=args.registry,
        min_improvement=args.min_improvement,
        keep=args.keep,
        force=args.force,
        gate=not args.no_gate,
    )
    while True:
        try:
            print(summary(retrain(config)), flush=True)
        except (DataError, ExportError, RegistryBusy) as exc:
            if args.every is None:
                raise
            log.error("retrain round failed: %s", exc)
        if args.every is None:
            return 0
        log.info("next retrain round in %.0f s", args.every)
        time.sleep(args.every)


def run_evaluate(args: argparse.Namespace) -> int:
    """`evaluate`: walk-forward backtest, baselines, cross-asset, synthetic and out-of-range checks, report."""
    from dataclasses import replace

    from training import evaluate, report

    base = replace(config_from_args(args, Path("unused")), progress=False)
    bt = evaluate.BacktestConfig(
        train=base,
        years=args.years,
        holdout_days=args.holdout_days,
        refit_every=args.refit_every,
        fine_tune_epochs=args.fine_tune_epochs,
        variants={} if args.no_variants else evaluate.default_variants(base, args.cross),
    )
    checks = evaluate.Checks(cross=args.cross, oor_train_end=args.oor_train_end, synthetic=not args.no_synthetic)
    found = evaluate.evaluate(bt, checks)
    report.write_report(found, args.out, args.name, args.readme)
    print("\n".join(report.headline(found.scores)))
    print(f"report: {args.out / (args.name + '.md')}")
    return 0


def run_export_triton(args: argparse.Namespace) -> int:
    """`export-triton`: a Triton model repository for the current (or given) version."""
    from training.triton import export_triton

    try:
        model_dir = export_triton(
            args.registry,
            args.out,
            args.version,
            args.name,
            args.triton_version,
            args.max_batch,
            args.cpu,
            args.queue_delay_us,
        )
    except ValueError as exc:
        raise DataError(str(exc)) from None
    print(f"Triton model repository written: {model_dir}/config.pbtxt, {model_dir}/{args.triton_version}/model.onnx")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The CLI's parser with one subparser per command."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "train",
        help="train a model and publish it as the current version",
        description="Train a stacked LSTM on daily prices, score it next to naive "
        "persistence on the test split, export it to ONNX (normalisation in "
        "the graph), verify the export, and publish it in the registry.",
    )
    add_train_options(p)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("models"),
        help="model registry directory; gets <version>/ and CURRENT (default %(default)s)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="publish even when the model fails the quality gate (Kupiec coverage, pinball vs GARCH-t, MAE "
        "vs naive on the test split); the override is recorded in the card and history.jsonl",
    )
    p.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when the registry already has a current version (idempotent start-up)",
    )
    p.set_defaults(func=run_train)
    r = sub.add_parser(
        "retrain",
        help="train a challenger and promote it only if it beats the champion",
        description="When the data are the files (and bytes) the champion was trained on, do nothing but "
        "record 'skipped'. Otherwise train a challenger on all data before the holdout (the newest "
        "--test-days trading days of every series), score it, the current champion, naive persistence, "
        "GARCH(1,1)-t and EWMA on that holdout, and promote the challenger only if it passes the quality "
        "gate and its pinball loss over all quantile levels beats the champion's by at least "
        "--min-improvement; append the decision and its table to <registry>/history.jsonl and prune old "
        "versions. Exit 0 when promoted, kept or skipped by decision, 2 on bad input, 1 on failure.",
    )
    add_train_options(r)
    r.add_argument(
        "--registry", type=Path, default=Path("models"), help="model registry directory (default %(default)s)"
    )
    r.add_argument(
        "--min-improvement",
        type=float,
        default=MIN_PINBALL_IMPROVEMENT,
        help="relative pinball-loss improvement over the champion needed to promote, e.g. 0.01 for 1%% "
        "(default %(default)s: strictly better, so a tie keeps the champion)",
    )
    r.add_argument(
        "--keep",
        type=positive_int,
        default=5,
        help="versions to keep; older ones are deleted, never the current one (default %(default)s)",
    )
    r.add_argument(
        "--force",
        action="store_true",
        help="retrain even with unchanged data, and promote the challenger whatever the scores (recorded)",
    )
    r.add_argument(
        "--no-gate",
        action="store_true",
        help="skip the quality gate (80%%/95%% coverage not rejected by Kupiec at 5%%, pinball loss at most "
        "1.02x GARCH(1,1)-t's, MAE at most 1.02x naive, on the holdout) that a challenger must otherwise pass",
    )
    r.add_argument(
        "--every",
        type=duration,
        default=None,
        help="run again every DURATION with a unit (24h, 30m, 1d, 90s) until stopped, as a long-lived "
        "service; at least 1h unless --allow-short-every",
    )
    r.add_argument(
        "--allow-short-every",
        action="store_true",
        help="accept an --every shorter than 1h (for tests and demos)",
    )
    r.set_defaults(func=run_retrain)
    e = sub.add_parser(
        "evaluate",
        help="walk-forward backtest against naive and other baselines, with a report",
        description="Rolling-origin backtest over the newest years: refit every --refit-every "
        "trading days on data strictly before each origin (first fold from scratch, "
        "later folds fine-tuned), forecast the following days, and score the model, "
        "naive, drift, EWMA, the min-max tutorial LSTM and a multivariate variant on "
        "the same days; then cross-asset and out-of-range checks; writes "
        "reports/<name>.md, PNG plots and <name>.json.",
    )
    add_train_options(e)
    e.add_argument("--name", default="sp500", help="report name (default %(default)s)")
    e.add_argument("--out", type=Path, default=Path("reports"), help="report directory (default %(default)s)")
    e.add_argument(
        "--years",
        type=float,
        default=2.0,
        help="walk-forward period before the final hold-out, in years of 252 days (default %(default)s)",
    )
    e.add_argument(
        "--holdout-days",
        type=positive_int,
        default=250,
        help="final hold-out: the newest days, reported on their own (default %(default)s)",
    )
    e.add_argument(
        "--refit-every", type=positive_int, default=126, help="K: trading days between refits (default %(default)s)"
    )
    e.add_argument(
        "--fine-tune-epochs",
        type=positive_int,
        default=4,
        help="epochs of fine-tuning at each later refit (default %(default)s)",
    )
    e.add_argument(
        "--cross",
        type=Path,
        default=BUNDLED_DATA / "nasdaq.csv.gz",
        help="a second series for the cross-asset check and the multivariate variant (default: bundled NASDAQ)",
    )
    e.add_argument(
        "--oor-train-end",
        default="2012-12-31",
        help="out-of-range check: train up to this date, score where prices top the training "
        "maximum; empty to skip (default %(default)s)",
    )
    e.add_argument("--no-variants", action="store_true", help="score the model and the baselines only")
    e.add_argument(
        "--no-synthetic",
        action="store_true",
        help="skip the three simulated GARCH(1,1)-t assets (0.5%%, 1.5%% and 3%% daily volatility)",
    )
    e.add_argument("--readme", type=Path, default=None, help="also update this README's generated report block")
    e.set_defaults(func=run_evaluate)
    t = sub.add_parser(
        "export-triton",
        help="write a Triton Inference Server model repository",
        description="Copy a registry version's model.onnx into <out>/<name>/<n>/ and write a "
        "config.pbtxt for Triton's ONNX Runtime backend with dynamic batching.",
    )
    t.add_argument("--registry", type=Path, default=Path("models"), help="model registry (default %(default)s)")
    t.add_argument("--out", type=Path, default=Path("triton_models"), help="repository root (default %(default)s)")
    t.add_argument("--version", default=None, help="registry version to export (default: CURRENT's)")
    t.add_argument("--name", default="lstm-forecast", help="Triton model name (default %(default)s)")
    t.add_argument(
        "--triton-version",
        type=positive_int,
        default=1,
        help="Triton's numeric version directory (default %(default)s)",
    )
    t.add_argument("--max-batch", type=positive_int, default=1024, help="max_batch_size (default %(default)s)")
    t.add_argument(
        "--queue-delay-us",
        type=positive_int,
        default=2000,
        help="dynamic batching max_queue_delay_microseconds (default %(default)s)",
    )
    t.add_argument("--cpu", action="store_true", help="instance_group KIND_CPU instead of KIND_GPU")
    t.set_defaults(func=run_export_triton)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run, and turn known failures into one-line messages with exit codes 2 (input) or 1."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RegistryBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ExportError as exc:
        print(f"error: export check failed, nothing published: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except GateRefused as exc:
        print(f"error: quality gate failed, nothing published (--force overrides): {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ValueError as exc:  # an option combination the model cannot take (e.g. --window 1 with vol)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
