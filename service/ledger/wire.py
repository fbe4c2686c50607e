"""The pipe between a server and its writer process: each message one frame of JSON, so that neither side ever loads
anything but JSON and plain numbers; a batch's quantiles and prices travel as packed float64 and float32 after it."""

from __future__ import annotations

import json
import struct
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from service.ledger.records import Answers
from service.ledger.upkeep import Upkeep

KEYED = ("scored", "kupiec", "retrain")  # Upkeep's dicts keyed by tuples
HEAD = struct.Struct("<I")  # a batch frame: the length of its JSON

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def put(connection: Connection, message: tuple[Any, ...] | dict[str, Any]) -> None:
    """Sends one message: ("batch", answers), ("written", n, increments), ("upkeep", found), or plain JSON values."""
    if isinstance(message, tuple) and message[0] == "batch":
        connection.send_bytes(b"B" + batch_frame(message[1]))
    else:
        connection.send_bytes(b"J" + _dumps(encoded(message)).encode())


def get(connection: Connection) -> Any:
    """The next message, as put() was given it."""
    frame = connection.recv_bytes()
    if frame[:1] == b"B":
        return ("batch", batch_answers(memoryview(frame)[1:]))
    return decoded(json.loads(frame[1:]))


def batch_frame(parts: list[Answers]) -> bytes:
    """Answers as one frame: their text and sizes as JSON, then each one's arrays as they are in memory (times and
    quantiles float64, prices float32), so that a batch crosses as a few large copies, not one per window."""
    text, arrays = [], []
    for a in parts:
        shape = [len(a), a.prices.shape[1], len(a.levels)]
        text.append([a.ids, a.names, a.as_of, a.target, a.model, a.levels, shape, a.raw is not None, a.factors])
        arrays += [np.asarray(a.created, dtype="<f8"), np.ascontiguousarray(a.served, dtype="<f8")]
        arrays.append(np.ascontiguousarray(a.prices, dtype="<f4"))
        if a.raw is not None:
            arrays.append(np.ascontiguousarray(a.raw, dtype="<f8"))
    head = _dumps(text).encode()
    return b"".join([HEAD.pack(len(head)), head, *(array.tobytes() for array in arrays)])


def batch_answers(frame: memoryview) -> list[Answers]:
    """batch_frame's answers back, as they were."""
    (size,) = HEAD.unpack_from(frame)
    at = HEAD.size + size
    parts = []
    for ids, names, as_of, target, model, levels, (n, length, q), has_raw, factors in json.loads(
        bytes(frame[HEAD.size : at])
    ):
        created, at = array_at(frame, at, "<f8", (n,))
        served, at = array_at(frame, at, "<f8", (n, q))
        prices, at = array_at(frame, at, "<f4", (n, length))
        raw, at = array_at(frame, at, "<f8", (n, q)) if has_raw else (None, at)
        found = Answers(ids, names, as_of, target, model, created.tolist(), prices, tuple(levels), served, raw, factors)
        parts.append(found)
    return parts


def array_at(frame: memoryview, at: int, dtype: str, shape: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """The array of `shape` at byte `at` of the frame, and where the next one starts."""
    count = int(np.prod(shape))
    found = np.frombuffer(frame, dtype=dtype, count=count, offset=at).reshape(shape)
    return found, at + found.itemsize * count


def encoded(message: tuple[Any, ...] | dict[str, Any]) -> Any:
    if isinstance(message, dict):
        return message
    if message[0] == "written":
        return ["written", message[1], [[*key, value] for key, value in message[2].items()]]
    if message[0] == "upkeep":
        found: Upkeep = message[1]
        keyed = {name: [[*key, value] for key, value in getattr(found, name).items()] for name in KEYED}
        return ["upkeep", {"named": found.named, "awaiting": found.awaiting, **keyed}]
    return list(message)


def decoded(message: Any) -> Any:
    if isinstance(message, dict):
        return message
    if message[0] == "written":
        return ("written", message[1], Counter({tuple(entry[:-1]): entry[-1] for entry in message[2]}))
    if message[0] == "upkeep":
        body = message[1]
        keyed = {name: {tuple(entry[:-1]): entry[-1] for entry in body[name]} for name in KEYED}
        return ("upkeep", Upkeep(body["named"], body["awaiting"], **keyed))
    return tuple(message)
