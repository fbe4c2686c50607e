"""The training loop: seed -> data -> model -> epochs with early stopping -> best weights."""

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

from training.data import DEFAULT_DATA, PriceSeries, Split, make_windows
from training.model import LSTMConfig, PriceForecaster, StackedLSTM, fit_normalizer

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Everything one training run depends on; the CLI fills it, the model card records it."""

    data: Path = DEFAULT_DATA
    column: str | None = None
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


def seed_everything(seed: int) -> None:
    """Same seed, same data, same machine: same weights."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def usable_cpus() -> int:
    """CPUs this process may run on (affinity), not the host's count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def encoded_tensors(
    model: PriceForecaster, prices: np.ndarray, window: int, start: int, stop: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Network inputs (N, T, 1) and targets (N,) for targets in [start, stop)."""
    x, y, _ = make_windows(prices, window, start, stop)
    xt = torch.tensor(x, dtype=torch.float32)  # (N, T)
    yt = torch.tensor(y[:, 0], dtype=torch.float32)  # (N,)
    with torch.no_grad():
        return model.normalizer.encode(xt), model.normalizer.encode_target(xt, yt)


def evaluate_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    """Mean squared error of the network over (x, y), in eval mode."""
    net.eval()
    loss_fn = nn.MSELoss(reduction="sum")
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch_size * 4):
            total += float(loss_fn(net(x[i : i + batch_size * 4]), y[i : i + batch_size * 4]))
    return total / max(len(x), 1)


def train_epoch(
    net: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> float:
    """One pass over shuffled training windows; returns the mean training loss."""
    net.train()
    loss_fn = nn.MSELoss()
    order = torch.randperm(len(x))
    total = 0.0
    for i in range(0, len(x), batch_size):
        idx = order[i : i + batch_size]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x[idx]), y[idx])
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        total += float(loss.detach()) * len(idx)
    return total / len(x)


def train(config: TrainConfig, series: PriceSeries, split: Split) -> TrainResult:
    """Fits the network on the train split, early-stops on validation loss, restores the best epoch."""
    seed_everything(config.seed)
    torch.set_num_threads(config.threads or usable_cpus())
    window = config.model.window
    normalizer = fit_normalizer(config.normalize, series.prices[: split.val_start])
    model = PriceForecaster(normalizer, StackedLSTM(config.model))
    x_train, y_train = encoded_tensors(model, series.prices, window, window, split.val_start)
    x_val, y_val = encoded_tensors(model, series.prices, window, split.val_start, split.test_start)
    log.info("training on %d windows, validating on %d", len(x_train), len(x_val))
    opt = torch.optim.Adam(model.net.parameters(), lr=config.lr)
    history: list[dict[str, float]] = []
    best = (float("inf"), 0, copy.deepcopy(model.net.state_dict()))
    bar = tqdm(range(1, config.epochs + 1), desc="training", unit="epoch", disable=not config.progress)
    for epoch in bar:
        train_loss = train_epoch(model.net, opt, x_train, y_train, config.batch_size)
        val_loss = evaluate_loss(model.net, x_val, y_val, config.batch_size)
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
        bar.set_postfix(train=f"{train_loss:.4f}", val=f"{val_loss:.4f}")
        if val_loss < best[0]:
            best = (val_loss, epoch, copy.deepcopy(model.net.state_dict()))
        elif epoch - best[1] >= config.patience:
            log.info(
                "early stop at epoch %d: no better validation loss for %d epochs",
                epoch,
                config.patience,
            )
            break
    model.net.load_state_dict(best[2])
    model.eval()
    log.info("best epoch %d, validation loss %.5f", best[1], best[0])
    return TrainResult(model=model, split=split, history=history, best_epoch=best[1])


def predict(model: PriceForecaster, windows: np.ndarray) -> np.ndarray:
    """Torch forecasts (N,) float64 for raw price windows (N, T)."""
    with torch.no_grad():
        out = model(torch.tensor(windows, dtype=torch.float32))
    return out.numpy().astype(np.float64)
