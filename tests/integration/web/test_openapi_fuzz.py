"""Schemathesis drives every /api/v1 operation from its own OpenAPI description:
no server errors, responses conform to the documented schemas and status codes."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12


def test_api_conforms_to_its_openapi_description(app_engine) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app_engine[0])
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case) -> None:
            case.call_and_validate(checks=CHECKS)

        run()
        tested.append(operation.label)
    assert len(tested) >= 14, tested
