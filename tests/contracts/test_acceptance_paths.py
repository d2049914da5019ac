"""`status.valid-input` judges only requests that really are valid: a stateful link that copied a null field into
a path (`/api/workspaces/None/skills`) made a request the schema forbids, and a 400 to it is no finding. A valid
path still is judged, so a server that refuses it is caught."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from schemathesis.generation import GenerationMode

from contracts.checks.acceptance import breaks_path_schema, valid_data_accepted
from contracts.failures import ValidInputRefused
from contracts.spec import DEFAULT_SPEC_PATH

SCHEMA = schemathesis.openapi.from_path(DEFAULT_SPEC_PATH)
OPERATION = SCHEMA["/api/workspaces/{id}/skills"]["GET"]
VALID_ID = "2d6f0c1e-8a43-4b7e-9d51-3f0a9c2e7b64"


def _response(status: int) -> Any:
    return SimpleNamespace(status_code=status, content=b'{"error":"id: bad"}')


def _positive_case(path_id: Any) -> Any:
    """A generated positive case of the real operation (a stand-in: schemathesis' `Case.meta` is read-only)."""
    meta = SimpleNamespace(generation=SimpleNamespace(mode=GenerationMode.POSITIVE))
    return SimpleNamespace(operation=OPERATION, path_parameters={"id": path_id}, meta=meta)


@pytest.mark.parametrize("value", [None, "None", "not-a-uuid"])
def test_a_path_value_the_schema_forbids_is_not_judged(value: Any) -> None:
    case = _positive_case(value)
    assert breaks_path_schema(case)
    assert valid_data_accepted(None, _response(400), case) is None  # type: ignore[arg-type]


def test_a_valid_path_refused_as_malformed_is_a_finding() -> None:
    case = _positive_case(VALID_ID)
    assert not breaks_path_schema(case)
    with pytest.raises(ValidInputRefused):
        valid_data_accepted(None, _response(400), case)  # type: ignore[arg-type]
