"""The champion a challenger is judged against: its card, its forecaster, and the series it was trained on."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from training.core.config import RetrainConfig
from training.core.data import BUNDLED_DATA, FeatureSeries, load_training_data
from training.core.errors import DataError
from training.core.records import DataRecord, ModelCard
from training.core.synthetic import SIMULATED
from training.core.universe import load_universe, series_identity
from training.net.export import cpu_session
from training.scoring import holdout

log = logging.getLogger(__name__)


def onnx_forecaster(model_dir: Path, card: ModelCard, series: list[FeatureSeries]) -> holdout.Forecaster:
    """Next-day forecasts and quantiles of a model.onnx, run by onnxruntime as the service would."""
    if card.get("features", ["close"]) != series[0].names:
        raise ValueError(f"it reads features {card.get('features')}, this data has {series[0].names}")
    session = cpu_session(model_dir / "model.onnx")
    names = [o.name for o in session.get_outputs()]
    window, levels = int(card["window"]), card.get("quantiles", [])

    def forecast(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        x = windows[:, -window:]
        out = session.run(names, {"window": (x[..., 0] if len(series[0].names) == 1 else x).astype(np.float32)})
        point = out[0].reshape(len(x), -1)[:, 0].astype(np.float64)
        if "quantiles" not in names:
            return point, None
        return point, out[names.index("quantiles")].reshape(len(x), -1, len(levels))[:, 0, :].astype(np.float64)

    return forecast


def read_card(model_dir: Path) -> ModelCard:
    """A version's model.json."""
    return json.loads((model_dir / "model.json").read_text())


def data_files(card: ModelCard) -> list[tuple[str, str]]:
    """The identity of every series a card was trained on: (file name, sha256), or a simulated path's name."""
    training = card.get("training", {})
    if "data" in training:
        return [series_identity(d["file"], d["sha256"]) for d in training["data"]]
    return [(str(training.get("data_file", "")), str(training.get("data_sha256", "")))]  # older cards: one file


def nothing_new(champion_card: ModelCard, series: list[FeatureSeries]) -> bool:
    """The job's data are exactly the files (and bytes) and simulated paths the champion was trained on."""
    return data_files(champion_card) == [series_identity(s.source, s.target.sha256) for s in series]


def champion_forecaster(
    config: RetrainConfig, champion: str | None, series: list[FeatureSeries]
) -> tuple[holdout.Forecaster | None, str]:
    """The champion's forecaster, or None with the reason it cannot be scored."""
    if champion is None:
        return None, "no champion (first run)"
    try:
        card = read_card(config.registry / champion)
        forecaster = onnx_forecaster(config.registry / champion, card, series)
        probe = np.linspace(100.0, 101.0, int(card["window"]))[None, :, None]
        forecaster(np.repeat(probe, len(series[0].names), axis=2))  # it must run before it is defended
    except Exception as exc:  # a champion that cannot run is no champion to defend
        reason = f"champion {champion} cannot be scored ({str(exc).splitlines()[0][:200]})"
        log.warning("%s; the challenger replaces it if it passes the gate", reason)
        return None, reason
    return forecaster, ""


def champion_series(card: ModelCard, config: RetrainConfig, series: list[FeatureSeries]) -> list[FeatureSeries]:
    """The series the champion was trained on, each found again by name (beside the --data files, or bundled)
    with its sha256 checked; a DataError names one that cannot be found, so that both are scored on it."""
    records = card.get("training", {}).get("data", [])
    simulated = [r for r in records if r["file"].startswith(SIMULATED)]
    found = [locate(record, config) for record in records if not record["file"].startswith(SIMULATED)]
    if simulated:
        count = int(card["training"].get("options", {}).get("simulated", len(simulated)))
        paths = {s.source: s for s in load_universe(replace(config.train, data=[], simulated=count))}
        found += [paths[r["file"]] for r in simulated if r["file"] in paths]
    return found


def locate(record: DataRecord, config: RetrainConfig) -> FeatureSeries:
    """A training file of the champion's card, read the way the challenger's data are read."""
    places = list(dict.fromkeys([*(Path(p).parent for p in config.train.data), BUNDLED_DATA]))
    for place in places:
        path = place / record["file"]
        if path.is_file():
            loaded = load_training_data(replace(config.train, data=[path], column=record.get("column")))[0]
            if loaded.target.sha256 == record["sha256"]:
                return loaded
    raise DataError(
        f"the champion was trained on {record['file']} (sha256 {record['sha256'][:12]}), which is not in "
        f"{', '.join(map(str, places))} with those bytes; put it beside the --data files (or give it with --data) "
        "so that the challenger is judged on the series the champion is for"
    )


def same_series(old: FeatureSeries, new: FeatureSeries) -> bool:
    """The same file name, or the new series holds the old one's prices on every one of its dates (extended)."""
    if old.source == new.source:
        return True
    common, old_at, new_at = np.intersect1d(old.dates, new.dates, return_indices=True)
    return len(common) == len(old.dates) and bool(np.allclose(old.prices[old_at], new.prices[new_at], rtol=1e-9))


def other_series(champion: list[FeatureSeries], challenger: list[FeatureSeries]) -> list[str]:
    """What differs between the two sets of series: a change of purpose when not empty."""
    dropped = [s.source for s in champion if not any(same_series(s, n) for n in challenger)]
    added = [n.source for n in challenger if not any(same_series(s, n) for s in champion)]
    return [*(f"champion only: {name}" for name in dropped), *(f"challenger only: {name}" for name in added)]


def read_card_or_empty(model_dir: Path) -> ModelCard:
    """A card, or {} when it cannot be read (then the data cannot match either)."""
    try:
        return read_card(model_dir)
    except (OSError, ValueError):
        return {}
