"""The page's routes: the static page, the live version's plots (and nothing else), the API docs served locally."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_the_docs_pages_point_at_the_services_own_files(client: TestClient) -> None:
    for path, asset in (
        ("/docs", "/static/vendor/swagger-ui-bundle.js"),
        ("/redoc", "/static/vendor/redoc.standalone.js"),
    ):
        html = client.get(path).text
        assert asset in html and "cdn." not in html and "fonts.googleapis" not in html
        assert client.get(asset).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["weights.pt", "model.json", "model.onnx", "..%2FCURRENT", "%2e%2e%2fCURRENT", "..%2F..%2Fetc%2Fpasswd", "x.png"],
)
def test_only_the_listed_plots_of_the_live_version_are_served(client: TestClient, path: str) -> None:
    answer = client.get(f"/model/files/{path}")
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
    assert client.get("/model/files/calibration.png").headers["content-type"] == "image/png"
