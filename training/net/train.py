"""The training loop: seed -> data -> model -> epochs of pinball loss with early stopping -> best weights."""

from __future__ import annotations

import copy
import logging
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from training.core.config import LSTMConfig, TrainConfig
from training.core.cpus import usable_cpus
from training.core.data import FeatureSeries, Split, chronological_split
from training.net.lengths import WindowPool, checked_lengths, draw_length
from training.net.model import PriceForecaster, StackedLSTM
from training.net.normalizers import fit_normalizer

log = logging.getLogger(__name__)

CONFORMAL_RANGE = (0.2, 5.0)  # factors outside this mean a broken model, not a calibration to apply


Dataset = tuple[FeatureSeries, Split]  # one series and its chronological split


@dataclass
class TrainResult:
    """The trained exportable model, the splits it was trained on, its loss history and calibration."""

    model: PriceForecaster
    datasets: list[Dataset]
    history: list[dict[str, float]]
    best_epoch: int
    calibration: dict[str, object] = field(default_factory=dict)

    @property
    def split(self) -> Split:
        """The first series' split (the one walk-forward folds and plots refer to)."""
        return self.datasets[0][1]


def split_all(config: TrainConfig, series: list[FeatureSeries]) -> list[Dataset]:
    """Each series with its own chronological split: no series' validation or test reaches training."""
    mc = config.model
    return [(s, chronological_split(s, mc.window, config.val_days, config.test_days, mc.horizon)) for s in series]


def seed_everything(seed: int) -> None:
    """Same seed, same data, same machine: same weights."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Mean quantile (pinball) loss: for u = y - q, tau*u when u >= 0 else (tau - 1)*u."""
    u = target.unsqueeze(-1) - pred  # (B, h, Q)
    return torch.maximum(quantiles * u, (quantiles - 1) * u).mean()


def encoded(model: PriceForecaster, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw windows (N, T, F) and next prices (N, h) -> network inputs and the targets its quantiles fit."""
    xt = torch.tensor(x, dtype=torch.float32)
    with torch.no_grad():
        return model.normalizer.encode(xt), model.normalizer.encode_target(xt, torch.tensor(y, dtype=torch.float32))


Encoded = list[tuple[torch.Tensor, torch.Tensor]]  # one (inputs, targets) pair per window length


def validation_sets(model: PriceForecaster, pool: WindowPool, mc: LSTMConfig) -> Encoded:
    """Every validation window at the shortest length, a year's and the longest the model and the data allow."""
    lengths = checked_lengths(mc.window, max(mc.window, min(mc.max_window, pool.longest)))
    return [encoded(model, *pool.every(length)) for length in lengths if (pool.history >= length).any()]


def evaluate_loss(net: nn.Module, sets: Encoded, quantiles: torch.Tensor) -> float:
    """Pinball loss of the network, in eval mode, averaged over the window lengths (each length weighs alike)."""
    net.eval()
    with torch.no_grad():
        return float(np.mean([float(pinball_loss(net(x), y, quantiles)) for x, y in sets]))


VOLATILITY_LR_FACTOR = 10.0  # the filter's three scalars move slowly through their sigmoids at the network's rate


def optimizer(net: StackedLSTM, lr: float) -> torch.optim.Optimizer:
    """Adam; the volatility filter's parameters at a higher learning rate."""
    filter_ids = {id(p) for p in net.vol.parameters()} if net.vol is not None else set()
    groups: list[dict[str, Any]] = [{"params": [p for p in net.parameters() if id(p) not in filter_ids]}]
    if net.vol is not None:
        groups.append({"params": list(net.vol.parameters()), "lr": lr * VOLATILITY_LR_FACTOR})
    return torch.optim.Adam(groups, lr=lr)


def train_epoch(
    model: PriceForecaster,
    opt: torch.optim.Optimizer,
    pool: WindowPool,
    rng: np.random.Generator,
    quantiles: torch.Tensor,
    config: TrainConfig,
) -> float:
    """Batches of random training windows, each batch of one random length; returns the mean training loss."""
    net, mc = model.net, config.model
    net.train()
    longest, batch_size = min(mc.max_window, pool.longest), config.batch_size
    total, count = 0.0, 0
    while count < (config.windows_per_epoch or len(pool)):
        x, y = encoded(model, *pool.draw(rng, batch_size, draw_length(rng, mc.window, longest)))
        opt.zero_grad(set_to_none=True)
        loss = pinball_loss(net(x), y, quantiles)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        total, count = total + float(loss.detach()) * len(x), count + len(x)
    return total / count


def build_model(config: TrainConfig, datasets: list[Dataset]) -> PriceForecaster:
    """A fresh model whose normaliser is fitted on the training periods only."""
    mc, names = config.model, datasets[0][0].names
    gap = np.full((1, len(names)), np.nan)  # keeps a return from spanning two series
    train_values = np.concatenate([part for s, split in datasets for part in (s.values[: split.val_start], gap)])
    normalizer = fit_normalizer(config.normalize, train_values, names, mc.window)
    return PriceForecaster(normalizer, StackedLSTM(mc), univariate=len(names) == 1)


def train(config: TrainConfig, datasets: list[Dataset], start_from: PriceForecaster | None = None) -> TrainResult:
    """Fits on every series' train split, early-stops on validation loss, restores the best epoch, calibrates.

    `start_from` fine-tunes an earlier model (walk-forward refits) instead of starting from scratch.
    """
    seed_everything(config.seed)
    torch.set_num_threads(config.threads or usable_cpus())
    mc = config.model
    model = copy.deepcopy(start_from) if start_from is not None else build_model(config, datasets)
    rng, pool = np.random.default_rng(config.seed), WindowPool.of(datasets, "train", mc.horizon)
    val = validation_sets(model, WindowPool.of(datasets, "val", mc.horizon), mc)
    if start_from is None:  # (h, Q): FHS on the training targets, standardised by the shortest window's sigma
        model.net.set_base(np.quantile(encoded(model, *pool.every(mc.window))[1].numpy(), mc.quantiles, axis=0).T)
    quantiles = torch.tensor(mc.quantiles, dtype=torch.float32)
    log.info("training on %d targets, validating on %s windows", len(pool), [len(y) for _, y in val])
    opt = optimizer(model.net, config.lr)
    history: list[dict[str, float]] = []
    best = (float("inf"), 0, copy.deepcopy(model.net.state_dict()))
    bar = tqdm(range(1, config.epochs + 1), desc="training", unit="epoch", disable=not config.progress)
    for epoch in bar:
        train_loss = train_epoch(model, opt, pool, rng, quantiles, config)
        val_loss = evaluate_loss(model.net, val, quantiles)
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
        bar.set_postfix(train=f"{train_loss:.4f}", val=f"{val_loss:.4f}")
        if val_loss < best[0]:
            best = (val_loss, epoch, copy.deepcopy(model.net.state_dict()))
        elif epoch - best[1] >= config.patience:
            log.info("early stop at epoch %d: no better validation loss for %d epochs", epoch, config.patience)
            break
    model.net.load_state_dict(best[2])
    model.eval()
    log.info("best epoch %d, validation loss %.5f", best[1], best[0])
    calibration = calibrate(model, val) if config.conformal else {}
    return TrainResult(model=model, datasets=datasets, history=history, best_epoch=best[1], calibration=calibration)


def conformal_factors(z: np.ndarray, y: np.ndarray, levels: tuple[float, ...], median: int) -> np.ndarray:
    """(h, Q) split-conformal factors on each quantile's offset from the median, from validation (N, h, Q).

    Each central interval (tau, 1 - tau) gets one factor for both its ends: the ceil((n + 1) * level)-th
    smallest of s = max((z_med - y) / (z_med - z_lo), (y - z_med) / (z_hi - z_med)), so that the scaled
    interval covers that level of validation days (conformalised quantile regression, Romano et al. 2019,
    with a multiplicative score). One factor for both ends keeps a drifting validation year from shifting
    the interval.
    """
    n, h, q = z.shape
    factors = np.ones((h, q))
    for step in range(h):
        center, target = z[:, step, median], y[:, step]
        for i, low in enumerate(levels[:median]):
            j = levels.index(round(1 - low, 6)) if round(1 - low, 6) in levels else None
            if j is None:
                continue
            s = np.maximum((center - target) / (center - z[:, step, i]), (target - center) / (z[:, step, j] - center))
            rank = min(1.0, np.ceil((n + 1) * (1 - 2 * low)) / n)  # finite-sample correction
            factors[step, [i, j]] = float(np.clip(np.quantile(s, rank, method="higher"), *CONFORMAL_RANGE))
    return factors


def interval_coverages(z: np.ndarray, y: np.ndarray, levels: tuple[float, ...]) -> dict[str, float]:
    """Share of step-1 targets inside each central interval the levels allow ('80', '95')."""
    found = {}
    for i, low in enumerate(levels):
        high = round(1 - low, 6)
        if low < 0.5 and high in levels:
            inside = (y[:, 0] >= z[:, 0, i]) & (y[:, 0] <= z[:, 0, levels.index(high)])
            found[f"{round((high - low) * 100)}"] = float(inside.mean())
    return found


def calibrate(model: PriceForecaster, sets: Encoded) -> dict[str, object]:
    """Sets the model's conformal factors from the validation split at every length; returns them with coverage."""
    levels, median = tuple(model.net.quantile_levels), model.net.median
    with torch.no_grad():
        z = torch.cat([model.net(x) for x, _ in sets])  # (N, h, Q) standardised quantiles
        y = torch.cat([y for _, y in sets]).numpy().astype(np.float64)
        before = interval_coverages(z.numpy(), y, levels)
        model.interval_scale.copy_(torch.tensor(conformal_factors(z.numpy(), y, levels, median)))
        after = interval_coverages(model.scaled(z).numpy(), y, levels)
    log.info("conformal step on %d validation windows: coverage %s -> %s", len(y), before, after)
    return {
        "method": "split-conformal scaling of each quantile's offset from the median, validation split",
        "factors": model.interval_scale.numpy().round(6).tolist(),
        "validation_windows": len(y),
        "validation_coverage_before": before,
        "validation_coverage_after": after,
    }


def predict(model: PriceForecaster, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Torch's (N, h) point forecasts and (N, h, Q) quantiles, float64, for raw windows (N, T, F)."""
    x = torch.tensor(windows, dtype=torch.float32)
    with torch.no_grad():
        prices = model.quantile_prices(x[..., 0] if model.univariate else x)
    q = prices.numpy().astype(np.float64)
    return q[..., model.net.median], q
