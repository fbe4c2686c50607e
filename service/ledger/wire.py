"""The pipe between a server and its writer process: each message one frame of JSON, so that neither side ever loads
anything but JSON and plain numbers; a batch's numbers and prices travel as packed float64 and float32 after it."""

from __future__ import annotations

import json
import struct
from array import array
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

from service.ledger.records import Row
from service.ledger.upkeep import Upkeep

KEYED = ("scored", "kupiec", "retrain")  # Upkeep's dicts keyed by tuples
HEAD = struct.Struct("<II")  # a batch frame: the JSON's length, the numbers' count

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def put(connection: Connection, message: tuple[Any, ...] | dict[str, Any]) -> None:
    """Sends one message: ("batch", rows), ("written", n, increments), ("upkeep", found), or plain JSON values."""
    if isinstance(message, tuple) and message[0] == "batch":
        connection.send_bytes(b"B" + batch_frame(message[1]))
    else:
        connection.send_bytes(b"J" + _dumps(encoded(message)).encode())


def get(connection: Connection) -> Any:
    """The next message, as put() was given it."""
    frame = connection.recv_bytes()
    if frame[:1] == b"B":
        return ("batch", batch_rows(memoryview(frame)[1:]))
    return decoded(json.loads(frame[1:]))


def batch_frame(rows: list[Row]) -> bytes:
    """Rows as one frame: their text and sizes as JSON, then every float64 (created, levels, quantiles, factors),
    then every window's float32 price bytes."""
    text, numbers = [], array("d")
    for id_, name, as_of, target, model, created, prices, levels, served, raw, factors in rows:
        keys = list(factors) if factors else None
        text.append((id_, name, as_of, target, model, len(prices) // 4, len(levels), keys))
        numbers.append(created)
        numbers.extend(levels)
        numbers.extend(served)
        numbers.extend(raw)
        if keys:
            numbers.extend(factors.values())
    head = _dumps(text).encode()
    return HEAD.pack(len(head), len(numbers)) + head + numbers.tobytes() + b"".join(row[6] for row in rows)


def batch_rows(frame: memoryview) -> list[Row]:
    """batch_frame's rows back, as they were."""
    size, count = HEAD.unpack_from(frame)
    start = HEAD.size + size
    text = json.loads(bytes(frame[HEAD.size : start]))
    numbers = array("d", bytes(frame[start : start + 8 * count])).tolist()
    prices = bytes(frame[start + 8 * count :])
    rows, at, byte = [], 0, 0
    for id_, name, as_of, target, model, length, q, keys in text:
        created, levels = numbers[at], tuple(numbers[at + 1 : at + 1 + q])
        served, raw = tuple(numbers[at + 1 + q : at + 1 + 2 * q]), tuple(numbers[at + 1 + 2 * q : at + 1 + 3 * q])
        at += 1 + 3 * q
        factors = dict(zip(keys, numbers[at : at + len(keys)], strict=True)) if keys else None
        at += len(keys) if keys else 0
        window, byte = prices[byte : byte + 4 * length], byte + 4 * length
        rows.append((id_, name, as_of, target, model, created, window, levels, served, raw, factors))
    return rows


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
