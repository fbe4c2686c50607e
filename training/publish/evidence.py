"""What the retraining job learns from the service's live record: where the store is, whether the champion's live
coverage is a reason to retrain, and the challenger's verdict on the recorded windows, for the history and card."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from training.core.config import RetrainConfig
from training.net.export import cpu_session
from training.publish import live
from training.publish.build import BuiltVersion

log = logging.getLogger(__name__)


def store_of(config: RetrainConfig) -> str | None:
    """--store, else FORECAST_STORE, else the service's default (forecasts.sqlite beside the registry) if it exists."""
    if config.store or os.environ.get("FORECAST_STORE"):
        return config.store or os.environ["FORECAST_STORE"]
    default = config.registry.resolve().parent / "forecasts.sqlite"
    return str(default) if default.is_file() else None


@dataclass
class LiveEvidence:
    """The champion's live record (None when there is none to read) and the reasons to retrain it gives."""

    store: str | None
    record: live.LiveRecord | None = None
    problem: str = ""
    miscalibrated: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, config: RetrainConfig, champion: str | None) -> LiveEvidence:
        store = store_of(config)
        if store is None or champion is None:
            return cls(store, problem="no forecast store" if store is None else "no champion")
        try:
            record = live.read_live(store, champion)
        except Exception as exc:  # a store that cannot be read takes nothing from the holdout's decision
            problem = f"the store {live.describe(store)} cannot be read ({str(exc).splitlines()[0][:200]})"
            log.warning("%s; deciding on the holdout alone", problem)
            return cls(store, problem=problem)
        if record is None:
            return cls(store, problem=f"no scored forecast of {champion} in the store")
        found = live.miscalibrated(record)
        for reason in live.reasons(found):
            log.warning("%s: a reason to retrain", reason)
        return cls(store, record, miscalibrated=found)

    @property
    def reasons(self) -> list[str]:
        return live.reasons(self.miscalibrated)

    def compare(self, built: BuiltVersion, min_improvement: float) -> dict[str, Any] | None:
        """The challenger on the champion's recorded windows, by the promotion rule (reported, not deciding)."""
        if self.record is None:
            return None
        if len(built.card.get("features", ["close"])) != 1:
            return {"days": 0, "verdict": "the challenger reads more than prices; the store keeps prices only"}
        session = cpu_session(built.staged / "model.onnx")
        names = [o.name for o in session.get_outputs()]
        if "quantiles" not in names or tuple(built.card.get("quantiles", ())) != self.record.levels:
            return {"days": 0, "verdict": "the challenger's quantile levels are not the champion's"}
        levels = len(self.record.levels)

        def quantiles(windows: np.ndarray) -> np.ndarray:
            out = session.run(["quantiles"], {"window": windows.astype(np.float32)})[0]
            return out.reshape(len(windows), -1, levels)[:, 0, :].astype(np.float64)

        card = built.card
        return live.compare(self.record, quantiles, int(card["window"]), min_improvement, card.get("max_window"))

    def summary(self, comparison: dict[str, Any] | None = None) -> dict[str, Any]:
        """The live part of a history record (and of a promoted card)."""
        found: dict[str, Any] = {"store": live.describe(self.store) if self.store else None}
        if self.record is None:
            return found | {"scored_days": 0, "note": self.problem}
        found |= {
            "scored_days": len(self.record.outcome),
            "series": len(set(self.record.series)),
            "miscalibrated": self.miscalibrated,
            "reasons_to_retrain": self.reasons,
        }
        return found | ({"challenger_vs_champion": comparison} if comparison is not None else {})
