"""Valid requests are accepted: a request the schema allows is never refused as malformed.

schemathesis' own `positive_data_acceptance` judges every operation by one global list of statuses; here the
spec says, per operation, where a valid-by-schema request may still be refused: `x-business-rules` maps a
status to the rule a valid request can break (`{'400': only a pending task can be started}`), and that status
is then a legitimate answer to positive data. Any other 400, 413, 415 or 422 to generated positive data is a
refused valid request — the way a server (or the mock) turns away real clients whose requests the spec allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.failures import ValidInputRefused
from contracts.registry import declare
from contracts.spec import BUSINESS_RULES, business_rules

if TYPE_CHECKING:
    from schemathesis import Case, CheckContext, Response

__all__ = ("BUSINESS_RULES", "VALID_INPUT_RULE", "breaks_path_schema", "business_rules", "valid_data_accepted")

VALID_INPUT_RULE = "status.valid-input"
EXPECTED = "a request valid by the operation's schema is not refused as malformed (no 400/413/415/422)"
# answers that say "your request is malformed"; 401/403/404/409/429 judge the caller or the state, not the shape
REFUSALS = frozenset({400, 413, 415, 422})

declare(
    VALID_INPUT_RULE,
    suite="status",
    title="Requests valid by the schema are not refused as malformed",
    failure=ValidInputRefused,
)


def breaks_path_schema(case: Case[Any]) -> bool:
    """A path value the parameter's schema forbids. The stateful phase copies values from responses into paths, and
    a null field becomes `/api/workspaces/None/...`: that request is not valid by the schema, whatever its meta says,
    so a check about valid requests has nothing to judge."""
    values = case.path_parameters or {}
    return any(p.name in values and not p.is_valid(values[p.name]) for p in case.operation.path_parameters)


def valid_data_accepted(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Positive (schema-valid) data must not be answered as malformed unless a business rule is documented."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code not in REFUSALS:
        return None
    if response.status_code in business_rules(case.operation.definition.raw):
        return None
    if breaks_path_schema(case):
        return None
    body = response.content[:300].decode("utf-8", "replace").strip()
    raise ValidInputRefused(
        rule=VALID_INPUT_RULE,
        operation=case.operation.label,
        expected=EXPECTED,
        actual=f"{response.status_code} {body}",
    )
