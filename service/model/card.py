"""model.json and the graph's metadata, read as untrusted input: what a version says it is, checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

import onnxruntime as ort

from service.errors import ModelError, first_line

KINDS = ("ratio", "volume", "level")
# model.json as read: untrusted until read_card, read_signature, feature_kinds and check_format have checked
# the parts the service uses (the trainer's ModelCard in training/tables.py is the full shape).
Card = dict[str, Any]


class Signature(TypedDict):
    """What a model takes and gives, from its card: input features, days ahead, quantile levels."""

    features: list[str]
    horizon: int
    quantiles: list[float]


FORMAT_NAME, FORMAT_MAJOR = "lstm-forecast", 1  # the model-card format this service reads


def feature_kinds(card: Card, features: list[str]) -> list[str]:
    """'ratio' (a positive price), 'volume' or 'level' per feature, as the trainer wrote them in the card.

    Only a one-feature close-price model (the minmax normaliser's) may omit them: its one kind is a price.
    """
    kinds = (card.get("normalization") or {}).get("feature_kinds")
    if kinds is None and features == ["close"]:
        return ["ratio"]
    if not (isinstance(kinds, list) and len(kinds) == len(features) and all(k in KINDS for k in kinds)):
        raise ModelError(f"model.json normalization.feature_kinds must list one of {KINDS} per feature, got {kinds!r}")
    return list(kinds)


def check_format(card: Card) -> None:
    """The card's format must be one this service reads: 'lstm-forecast/<major>' with major 1 (or absent)."""
    fmt = card.get("format", f"{FORMAT_NAME}/{FORMAT_MAJOR}")
    name, _, version = str(fmt).partition("/")
    major = version.split(".")[0]
    if name != FORMAT_NAME or not major.isdigit():
        raise ModelError(f"model.json format {fmt!r} is not a {FORMAT_NAME} model card")
    if int(major) != FORMAT_MAJOR:
        raise ModelError(
            f"model.json format {fmt!r} is major version {major}; this service reads {FORMAT_NAME}/{FORMAT_MAJOR} "
            "(upgrade the service, or publish the model with a matching trainer)"
        )


def read_card(directory: Path, version: str) -> Card:
    """model.json, which must be a JSON object naming this version and its window."""
    try:
        card = json.loads((directory / "model.json").read_text())
    except FileNotFoundError:
        raise ModelError("model.json is missing") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"model.json is not valid JSON: {first_line(exc)}") from None
    if not isinstance(card, dict):
        raise ModelError("model.json is not a JSON object")
    if card.get("version") != version:
        raise ModelError(f"model.json names version {card.get('version')!r}, not {version!r}")
    window = card.get("window")
    if not isinstance(window, int) or not counts(window):
        raise ModelError(f"model.json has no valid window length (got {window!r})")
    longest = card.setdefault("max_window", window)  # a card without one: a fixed-window model
    if (
        not isinstance(longest, int)
        or not counts(longest)
        or longest < window
        or card.setdefault("min_window", window) != window
    ):
        raise ModelError(
            f"model.json window range is not valid: min_window {card.get('min_window')!r} must equal window "
            f"{window}, and max_window {longest!r} be a length from it up to 100000"
        )
    return card


def counts(value: object) -> bool:
    """A window length: an integer 1..100000."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100_000


def read_signature(card: Card) -> Signature:
    """features, horizon and quantile levels from model.json (older cards: one feature, one day, none)."""
    features = card.get("features", ["close"])
    horizon = card.get("horizon", 1)
    quantiles = card.get("quantiles", [])
    if not (isinstance(features, list) and features and all(isinstance(f, str) for f in features)):
        raise ModelError(f"model.json features must be a list of names, got {features!r}")
    if not isinstance(horizon, int) or isinstance(horizon, bool) or not 1 <= horizon <= 100:
        raise ModelError(f"model.json horizon must be 1..100, got {horizon!r}")
    if not (isinstance(quantiles, list) and all(isinstance(q, float) and 0 < q < 1 for q in quantiles)):
        raise ModelError(f"model.json quantiles must be levels in (0, 1), got {quantiles!r}")
    if quantiles and (quantiles != sorted(quantiles) or 0.5 not in quantiles):
        raise ModelError("model.json quantiles must be sorted and include 0.5")
    return {"features": features, "horizon": horizon, "quantiles": quantiles}


def check_metadata(
    session: ort.InferenceSession, version: str, window: int, features: int = 1, max_window: int | None = None
) -> None:
    """The graph's own metadata and signature must agree with model.json (a range of lengths: a dynamic axis)."""
    meta = session.get_modelmeta().custom_metadata_map
    if meta.get("version") != version:
        raise ModelError(f"ONNX metadata names version {meta.get('version')!r}, not {version!r}")
    if meta.get("window") != str(window):
        raise ModelError(f"ONNX metadata window {meta.get('window')!r} differs from model.json's {window}")
    longest = max_window or window
    if longest > window and meta.get("max_window") != str(longest):
        raise ModelError(f"ONNX metadata max_window {meta.get('max_window')!r} differs from model.json's {longest}")
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if [i.name for i in inputs] != ["window"] or inputs[0].type != "tensor(float)":
        raise ModelError(f"expected one float input 'window', got {[(i.name, i.type) for i in inputs]}")
    shape = inputs[0].shape
    length = window if longest == window else "length"
    expected = [length] if features == 1 else [length, features]
    fixed = [d if isinstance(d, int) and d > 0 else "length" for d in shape[1:2]] + shape[2:]
    if fixed != expected or (isinstance(shape[0], int) and shape[0] != -1):
        raise ModelError(f"input 'window' has shape {shape}; expected [batch, {', '.join(map(str, expected))}]")
    if "forecast" not in [o.name for o in outputs]:
        raise ModelError(f"no output 'forecast' (outputs: {[o.name for o in outputs]})")
