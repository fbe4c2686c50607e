"""The protocol's bodies: JSON or binary tensors in (with the request's parameters), tensors out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import orjson
from fastapi.responses import Response

from service.api.calendar import business_days_after
from service.api.validation import checked_float32
from service.errors import ProtocolError
from service.inference.recording import Asked
from service.ledger.records import checked_name
from service.model.forecaster import Forecaster


def split_body(raw: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    """The JSON inference header and the binary tail (binary tensor data extension)."""
    if header_length is None:
        json_part, tail = raw, b""
    else:
        if not header_length.isdigit() or int(header_length) > len(raw):
            raise ProtocolError(f"Inference-Header-Content-Length {header_length!r} does not fit the body")
        json_part, tail = raw[: int(header_length)], raw[int(header_length) :]
    try:
        header = orjson.loads(json_part)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"request is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("inputs"), list):
        raise ProtocolError("request must be an object with an 'inputs' list")
    return header, tail


def input_array(header: dict[str, Any], tail: bytes, model: Forecaster) -> np.ndarray:
    """The 'window' input as float32 [B, window(, F)], from JSON data or binary data."""
    inputs = header["inputs"]
    names = [i.get("name") if isinstance(i, dict) else None for i in inputs]
    if names != ["window"]:
        raise ProtocolError(f"expected exactly one input named 'window', got {names}")
    tensor = inputs[0]
    features = [] if model.univariate else [len(model.features)]
    shape = tensor.get("shape")
    dims_ok = isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape)
    if not dims_ok or len(shape) != 2 + len(features) or shape[2:] != features or not model.reads(shape[1]):
        raise ProtocolError(
            f"input 'window' shape {shape} must be [batch, length{''.join(f', {f}' for f in features)}], "
            f"batch >= 1, length {model.lengths()}"
        )
    if tensor.get("datatype") != "FP32":
        raise ProtocolError(f"input 'window' datatype {tensor.get('datatype')!r} must be 'FP32'")
    count = int(np.prod(shape))
    binary_size = parameters(tensor, "input 'window'").get("binary_data_size")
    if binary_size is not None:
        if not isinstance(binary_size, int) or isinstance(binary_size, bool) or binary_size != count * 4:
            raise ProtocolError(
                f"binary_data_size {binary_size} does not match shape {shape}: {count * 4} bytes of FP32 values"
            )
        if len(tail) != binary_size:
            raise ProtocolError(
                f"the body holds {len(tail)} bytes after the JSON header; binary_data_size says {binary_size}"
            )
        values = np.frombuffer(tail[:binary_size], dtype="<f4").astype(np.float64)
    else:
        try:
            values = np.asarray(tensor.get("data"), dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ProtocolError("input 'window' data must be numbers") from None
        if values.size != count:
            raise ProtocolError(f"input 'window' has {values.size} values; shape {shape} needs {count}")
    return checked_float32(values.reshape(shape[0], -1), "ratio", lambda r, c: f"window[{r}][{c}]").reshape(shape)


def parameters(item: dict[str, Any], where: str) -> dict[str, Any]:
    """An object's 'parameters', which must be a JSON object when present."""
    found = item.get("parameters") or {}
    if not isinstance(found, dict):
        raise ProtocolError(f"{where} 'parameters' must be an object, got {type(found).__name__}")
    return found


def binary_outputs(header: dict[str, Any], names: list[str]) -> set[str]:
    """Outputs to send as raw bytes: per output `binary_data`, or `binary_data_output` for all of them."""
    every = parameters(header, "the request").get("binary_data_output") is True
    asked = {o["name"]: parameters(o, f"output {o['name']!r}").get("binary_data") for o in header.get("outputs") or []}
    return {n for n in names if asked.get(n, every) is True}


def encode(body: dict[str, Any], arrays: dict[str, np.ndarray], binary: set[str]) -> Response:
    """The JSON answer, with the binary outputs' bytes after it (their order) when any are binary."""
    tail = []
    for output in body["outputs"]:
        values = arrays[output["name"]].astype("<f4", copy=False)
        if output["name"] in binary:
            tail.append(values.tobytes())
            output["parameters"] = {"binary_data_size": values.nbytes}
        else:
            output["data"] = values.astype(np.float64).reshape(-1).tolist()
    if not tail:
        return answer(body)
    head = orjson.dumps(body)
    return Response(
        b"".join([head, *tail]),
        media_type="application/octet-stream",
        headers={"Inference-Header-Content-Length": str(len(head))},
    )


def requested_outputs(header: dict[str, Any], model: Forecaster) -> list[str]:
    """The outputs asked for (all by default); unknown names are errors."""
    available = ["forecast", *(["quantiles"] if model.quantiles else [])]
    asked = header.get("outputs")
    if not asked:
        return available
    if not isinstance(asked, list):
        raise ProtocolError(f"'outputs' must be a list of objects with a 'name', got {type(asked).__name__}")
    names = [o.get("name") if isinstance(o, dict) else None for o in asked]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ProtocolError(f"unknown outputs {unknown}; this model has {available}")
    return [str(n) for n in names]


def asked_of(header: dict[str, Any], n: int) -> Asked:
    """The request's `parameters`: `series` and `as_of` (one for all windows, or a list of one per window)."""
    given = parameters(header, "the request")
    values = {}
    for name in ("series", "as_of"):
        value = given.get(name)
        value = value if isinstance(value, list) else [value] * n
        if len(value) != n:
            raise ProtocolError(f"parameters.{name} has {len(value)} values for {n} windows")
        values[name] = value
    try:
        names = [checked_name(v, f"parameters.series[{i}]") if v else "" for i, v in enumerate(values["series"])]
        days = [dt.date.fromisoformat(v) if v is not None else None for v in values["as_of"]]
    except (ValueError, TypeError) as exc:
        raise ProtocolError(f"parameters: {exc}") from None
    targets = [business_days_after(d, 1)[0].isoformat() if d else None for d in days]
    return Asked(names, [d.isoformat() if d else None for d in days], targets)


def answer(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
