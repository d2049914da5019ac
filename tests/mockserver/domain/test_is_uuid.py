"""`fields.is_uuid`: the one test of "is this reference an id or a name" (task creation's workspace reference, the
budget forecast's workspaceId)."""

from __future__ import annotations

import pytest

from mockserver.domain.fields import is_uuid


@pytest.mark.parametrize("value", ["2d6f0c1e-8a43-4b7e-9d51-3f0a9c2e7b64", "2D6F0C1E-8A43-4B7E-9D51-3F0A9C2E7B64"])
def test_a_uuid_in_either_case_is_an_id(value: str) -> None:
    assert is_uuid(value)


@pytest.mark.parametrize(
    "value",
    [
        "acme-web",
        "acme/web",
        "",
        "2d6f0c1e8a434b7e9d513f0a9c2e7b64",  # no hyphens
        "2d6f0c1e8a434b7e9d513f0a9c2e7b64----",  # 36 characters, hyphens in the wrong places
        "{2d6f0c1e-8a43-4b7e-9d51-3f0a9c2e7b64}",
        "2d6f0c1e-8a43-4b7e-9d51-3f0a9c2e7b64\n",
    ],
)
def test_anything_else_is_a_name(value: str) -> None:
    assert not is_uuid(value)
