"""Suite `schemas`: every response body, content type and header matches the operation's responses in the spec.

Entirely generated (the shared schemathesis engine run): `response_schema_conformance`,
`content_type_conformance` and `response_headers_conformance`.
"""

from __future__ import annotations

from contracts.context import SuiteContext
from contracts.failures import SchemaViolation
from contracts.registry import EngineRule, declare, suite

SUITE = "schemas"

declare("schemas.response-body", suite=SUITE, title="Response bodies match their schema", failure=SchemaViolation)
declare("schemas.content-type", suite=SUITE, title="Content types are the documented ones", failure=SchemaViolation)
declare(
    "schemas.headers", suite=SUITE, title="Documented response headers are present and valid", failure=SchemaViolation
)

ENGINE = {
    "response_schema_conformance": EngineRule(
        "schemas.response-body", SchemaViolation, "a body valid against the documented response schema"
    ),
    "content_type_conformance": EngineRule(
        "schemas.content-type", SchemaViolation, "a Content-Type the operation documents for this status"
    ),
    "response_headers_conformance": EngineRule(
        "schemas.headers", SchemaViolation, "the documented response headers, with valid values"
    ),
}


@suite("schemas", title="Response schemas", order=30, needs=("key",), engine=ENGINE)
def run_schemas(ctx: SuiteContext) -> None:
    """Bodies, content types and headers match the spec (all checks run in the shared engine)."""
