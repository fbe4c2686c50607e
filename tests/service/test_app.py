"""create_app: the routes, the OpenAPI document with request bodies, the layers outside FastAPI's stack."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient


def test_openapi_documents_predict_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    predict = schema["paths"]["/predict"]["post"]
    assert "422" in predict["responses"] and "503" in predict["responses"]
    request_schema = schema["components"]["schemas"]["PredictRequest"]
    assert request_schema["examples"][0]["window"]
    assert json.dumps(schema)  # serialisable as served
