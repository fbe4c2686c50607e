"""create_app: the routes, the OpenAPI document with request bodies, the layers outside FastAPI's stack."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient


def test_openapi_documents_predict_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    predict = schema["paths"]["/predict"]["post"]
    assert "422" in predict["responses"] and "503" in predict["responses"]
    request_schema = schema["components"]["schemas"]["PredictRequest"]
    assert request_schema["examples"][0]["window"]
    assert json.dumps(schema)  # serialisable as served


@pytest.mark.parametrize(
    ("path", "schema", "posted_to"),
    [
        ("/v1/timeseries/forecast", "ForecastRequest", "/v1/timeseries/forecast"),
        ("/v2/models/{name}/infer", "InferenceRequest", "/v2/models/lstm-forecast/infer"),
        ("/v2/models/{name}/versions/{version}/infer", "InferenceRequest", None),
    ],
)
def test_the_protocols_bodies_are_documented_with_an_example_that_works(
    client: TestClient, path: str, schema: str, posted_to: str | None
) -> None:
    document = client.get("/openapi.json").json()
    body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": f"#/components/schemas/{schema}"} and schema in document["components"]["schemas"]
    if posted_to is not None:  # Swagger's "Try it out" sends the example: it must be a request the service takes
        assert client.post(posted_to, json=body["example"]).status_code == 200
