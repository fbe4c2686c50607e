"""The studies' commands: each writes a report under reports/ and changes no registry."""

from __future__ import annotations

from training.core.options import Command
from training.studies.jobs import AblationJob, EvaluateJob, FamilyReaderJob, WindowLimitJob


def run_evaluate(job: EvaluateJob) -> int:
    """`evaluate`: walk-forward backtest, baselines, cross-asset, synthetic and out-of-range checks, report."""
    if job.leave_one_out:
        from training.studies.loo_report import leave_one_out_report

        print("\n".join(leave_one_out_report(job)))
        return 0
    from training.studies.report import evaluate_and_report

    print("\n".join(evaluate_and_report(job)))
    return 0


def run_ablation(job: AblationJob) -> int:
    """`ablation`: one change at a time on the leave-one-asset-out protocol -> reports/ablation.md."""
    from training.studies.ablation import run_ablation as ablate

    print("\n".join(ablate(job)))
    return 0


def run_window_limit(job: WindowLimitJob) -> int:
    """`window-limit`: the held-out simulated assets' true model over the window, and the bundled default model
    beside it -> reports/window_limit.md."""
    from training.studies.window_limit import run_window_limit as measure

    print("\n".join(measure(job.out)))
    return 0


def run_family_reader(job: FamilyReaderJob) -> int:
    """`family-reader`: a 60-price Bayes reader that knows only the model family -> reports/family_reader.md."""
    from training.studies.family_reader import run_family_reader as measure

    print("\n".join(measure(job.out, job.window)))
    return 0


COMMANDS = {  # a table, not logic: the texts `--help` shows
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
        "the default and one change at a time, each on the leave-one-asset-out protocol",
        "Run the leave-one-asset-out protocol (evaluate --leave-one-out) for the default model and for one "
        "change at a time: the network reading 250 or all posted prices, its correction fading with the window's "
        "length, the pool without the exchange rates "
        "and the 1987 crash, less or more training data, a high-low range input, more layers, more units, a "
        "smaller model; write reports/ablation.md with wins, losses and coverage at the shortest and the "
        "longest length, training time and ONNX speed per row. 40-100 minutes a row here; --row runs one.",
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
}
