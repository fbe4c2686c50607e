"""The Open Inference Protocol's request and error shapes, documented in /openapi.json with an example."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ProtocolErrorBody(BaseModel):
    """The protocol's error answer."""

    error: str


class InferInput(BaseModel):
    """One input tensor: `window`, float32, shape [n, window length], its values row by row."""

    name: str = Field(examples=["window"])
    shape: list[int] = Field(examples=[[1, 60]])
    datatype: str = Field(examples=["FP32"])
    data: list[float] | None = Field(None, description="the values, flattened; absent with binary_data_size")
    parameters: dict[str, Any] | None = Field(None, description='{"binary_data_size": n} for the binary extension')


class InferOutput(BaseModel):
    """An output asked for: `forecast` or `quantiles`, optionally as binary data."""

    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(BaseModel):
    """The protocol's inference request (JSON); the binary extension sends this header, then the raw float32s."""

    id: str | None = None
    inputs: list[InferInput]
    outputs: list[InferOutput] | None = None
    parameters: dict[str, Any] | None = Field(None, description='{"binary_data_output": true} for binary answers')


INFER_EXAMPLE = {"inputs": [{"name": "window", "shape": [1, 60], "datatype": "FP32", "data": list(range(101, 161))}]}


INFER_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/InferenceRequest"}, "example": INFER_EXAMPLE}
        },
    }
}
