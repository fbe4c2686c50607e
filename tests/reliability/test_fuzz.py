"""schemathesis against the service's own OpenAPI schema: no 5xx, answers conform, errors are JSON."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

EXAMPLES_PER_OPERATION = 60  # bounded so that the whole run stays well under two minutes


def test_every_operation_conforms_to_the_schema(live_server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server}/openapi.json")
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def conforms(case: schemathesis.Case) -> None:
            response = case.call_and_validate()  # no 5xx, documented status, content type and body schema
            if response.status_code >= 400:
                assert response.headers["content-type"].startswith("application/json")
                assert response.json()["error"]

        conforms()
        checked.append(operation.label)
    assert "POST /predict" in checked and "GET /model" in checked
    assert httpx.get(f"{live_server}/health/live").status_code == 200
