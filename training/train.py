"""The training loop: seed -> data -> model -> epochs of pinball loss with early stopping -> best weights."""

from __future__ import annotations

import copy
import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from training.data import DEFAULT_DATA, FeatureSeries, Split, load_features, make_feature_windows
from training.model import LSTMConfig, PriceForecaster, StackedLSTM, fit_normalizer

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Everything one training run depends on; the CLI fills it, the model card records it."""

    data: Path = DEFAULT_DATA
    column: str | None = None
    features: list[str] = field(default_factory=lambda: ["close"])
    extras: dict[str, Path] = field(default_factory=dict)
    out: Path = Path("models")
    model: LSTMConfig = field(default_factory=LSTMConfig)
    normalize: str = "window"
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    patience: int = 5
    val_days: int = 250
    test_days: int = 250
    seed: int = 0
    threads: int = 0  # 0: the CPUs this process may use
    progress: bool = True


@dataclass
class TrainResult:
    """The trained exportable model, the split it was trained on and its loss history."""

    model: PriceForecaster
    split: Split
    history: list[dict[str, float]]
    best_epoch: int


def load_training_data(config: TrainConfig) -> FeatureSeries:
    """The features a config names, from its data file and extras, aligned on dates."""
    return load_features(config.data, config.column, config.features, config.extras)


def seed_everything(seed: int) -> None:
    """Same seed, same data, same machine: same weights."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def usable_cpus() -> int:
    """CPUs this process may run on (affinity), not the host's count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Mean quantile (pinball) loss: for u = y - q, tau*u when u >= 0 else (tau - 1)*u."""
    u = target.unsqueeze(-1) - pred  # (B, h, Q)
    return torch.maximum(quantiles * u, (quantiles - 1) * u).mean()


def encoded_tensors(
    model: PriceForecaster, values: np.ndarray, window: int, horizon: int, start: int, stop: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Network inputs (N, T, F) and targets (N, h) for targets in [start, stop)."""
    x, y, _ = make_feature_windows(values, window, start, stop, horizon)
    xt = torch.tensor(x, dtype=torch.float32)  # (N, T, F)
    with torch.no_grad():
        return model.normalizer.encode(xt), model.normalizer.encode_target(xt, torch.tensor(y, dtype=torch.float32))


def evaluate_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor, quantiles: torch.Tensor) -> float:
    """Pinball loss of the network over (x, y), in eval mode."""
    net.eval()
    with torch.no_grad():
        return float(pinball_loss(net(x), y, quantiles))


def train_epoch(
    net: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    quantiles: torch.Tensor,
    batch_size: int,
) -> float:
    """One pass over shuffled training windows; returns the mean training loss."""
    net.train()
    order = torch.randperm(len(x))
    total = 0.0
    for i in range(0, len(x), batch_size):
        idx = order[i : i + batch_size]
        opt.zero_grad(set_to_none=True)
        loss = pinball_loss(net(x[idx]), y[idx], quantiles)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        total += float(loss.detach()) * len(idx)
    return total / len(x)


def build_model(config: TrainConfig, series: FeatureSeries, split: Split) -> PriceForecaster:
    """A fresh model whose normaliser is fitted on the training period only."""
    mc = config.model
    normalizer = fit_normalizer(config.normalize, series.values[: split.val_start], series.names)
    return PriceForecaster(normalizer, StackedLSTM(mc), univariate=len(series.names) == 1)


def train(
    config: TrainConfig, series: FeatureSeries, split: Split, start_from: PriceForecaster | None = None
) -> TrainResult:
    """Fits on the train split, early-stops on validation loss, restores the best epoch.

    `start_from` fine-tunes an earlier model (walk-forward refits) instead of starting from scratch.
    """
    seed_everything(config.seed)
    torch.set_num_threads(config.threads or usable_cpus())
    mc = config.model
    model = copy.deepcopy(start_from) if start_from is not None else build_model(config, series, split)
    x_train, y_train = encoded_tensors(model, series.values, mc.window, mc.horizon, mc.window, split.val_start)
    x_val, y_val = encoded_tensors(model, series.values, mc.window, mc.horizon, split.val_start, split.test_start)
    quantiles = torch.tensor(mc.quantiles, dtype=torch.float32)
    log.info("training on %d windows, validating on %d", len(x_train), len(x_val))
    opt = torch.optim.Adam(model.net.parameters(), lr=config.lr)
    history: list[dict[str, float]] = []
    best = (float("inf"), 0, copy.deepcopy(model.net.state_dict()))
    bar = tqdm(range(1, config.epochs + 1), desc="training", unit="epoch", disable=not config.progress)
    for epoch in bar:
        train_loss = train_epoch(model.net, opt, x_train, y_train, quantiles, config.batch_size)
        val_loss = evaluate_loss(model.net, x_val, y_val, quantiles)
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
    return TrainResult(model=model, split=split, history=history, best_epoch=best[1])


def predict(model: PriceForecaster, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Torch's (N, h) point forecasts and (N, h, Q) quantiles, float64, for raw windows (N, T, F)."""
    x = torch.tensor(windows, dtype=torch.float32)
    with torch.no_grad():
        q = model.quantile_prices(x[..., 0] if model.univariate else x)
    q = q.numpy().astype(np.float64)
    return q[..., model.net.median], q
