"""Schemathesis against the strict in-process mock: every check, positive and negative data (examples, coverage
and fuzzing phases), plus the state machine that follows the spec's links. The control API (tag `mock`) is left
out, as the contract suites leave it out.

A finding here is a bug in the mock or the spec. The only exceptions are the known false positives below, each
explained and configured as narrowly as the check allows (one operation, one status, the rule the spec documents).
"""

from __future__ import annotations

import copy
import re
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import ensure_resource_availability, positive_data_acceptance, use_after_free
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.feedback import FeedbackSources

from contracts.checks.acceptance import breaks_path_schema
from contracts.spec import DEFAULT_SPEC_PATH, load_spec
from fixtures.world import load_world
from mockserver import MockSettings, create_app


class CurrentApp:
    """The ASGI app schemathesis talks to (also for its own probes): a fresh strict mock per test."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # each mock is used without lifespan events, like a bare TestClient
            return
        await self.app(scope, receive, send)


CURRENT = CurrentApp()
# 413 is a rejection too: negative data that is also over the 1 MiB body limit gets it (the check's default list
# omits it, so it would report "schema-violating request accepted" for a request that was refused).
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
    }
)
schema = schemathesis.openapi.from_path(DEFAULT_SPEC_PATH, config=CONFIG)
schema.app = CURRENT
schema = schema.exclude(tag="mock")

SPEC = load_spec()
WORLD = load_world("default")
ADMIN_KEY = next(
    c["apiKey"]
    for c in WORLD["credentials"]
    if c["accountId"] == next(a["id"] for a in WORLD["accounts"] if a["name"] == "acme-admin")
)
OWNER_SESSION = next(
    s["token"]
    for s in WORLD["sessions"]
    if s["userId"] == next(u["id"] for u in WORLD["users"] if u["email"] == "ada@acme.example")
)


@schema.auth()
class FixtureCredentials:
    """Ada's session (an Acme owner, like the dashboard) wherever the operation accepts a session, the Acme admin
    key where only a key will do. Registered as an auth provider so `ignored_auth` knows they are real.

    With both sent, the key would win (spec: "when both are valid the account wins"), and a key cannot see the
    restricted workspaces it creates without a link, so the stateful phase would report them missing (ST302).
    """

    def get(self, case: schemathesis.Case, context: Any) -> tuple[str, str]:
        return ADMIN_KEY, OWNER_SESSION

    def set(self, case: schemathesis.Case, data: tuple[str, str], context: Any) -> None:
        key, session = data
        if "session" in SPEC.operations[case.operation.definition.raw["operationId"]].schemes:
            case.cookies = {**(case.cookies or {}), "authjs.session-token": session}
        else:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}


# Known false positives of `positive_data_acceptance` (ST202), and only these. A request can match its schema
# and still break a rule of the API that depends on the state: a device token that was never issued, a task
# that is no longer pending, a parent task that does not exist. The spec documents each such rule on its
# operation (`x-business-rules: {'400': why}`, the same list `buildd-api check` reads), so a 400 is tolerated
# exactly where the operation documents one; any other 400 to valid data fails.
def documents_business_rule(case: schemathesis.Case, status: int) -> bool:
    return status in SPEC.operations[str(case.operation.definition.raw.get("operationId"))].business_rules


def test_only_the_documented_status_is_tolerated() -> None:
    def case(operation_id: str) -> Any:
        return SimpleNamespace(operation=SimpleNamespace(definition=SimpleNamespace(raw={"operationId": operation_id})))

    assert documents_business_rule(case("startTask"), 400)  # "only a pending task can be started"
    assert not documents_business_rule(case("startTask"), 415)  # documented: 400 and 422
    assert not documents_business_rule(case("getMe"), 400)  # no rule: a 400 to valid data is a finding
    assert documents_business_rule(case("updateWorker"), 400)  # a pr_required task needs a pull request


# A spec gap, reported to the spec's owner: these text fields have `minLength: 1` but the API (like the real
# server) trims them, so "   " is schema-valid and still answered `<field> is required`. TaskCreate.title already
# says `pattern: '\S'`; the others should too. Tolerated only when the named field really is blank.
BLANK_FIELD = re.compile(r"^([A-Za-z_][\w.]*) (?:is )?(?:required|must not be empty)$")


def _is_blank(body: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(body, dict) or part not in body:
            return False
        body = body[part]
    return isinstance(body, str) and not body.strip()


def accepts_positive_data(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """`positive_data_acceptance`, except for a documented 405, the state-dependent rules and blank text fields above."""
    operation_id = str(case.operation.definition.raw.get("operationId"))
    if response.status_code == 405 and 405 in SPEC.operations[operation_id].statuses:
        return None  # documented: a stateless MCP server has no SSE stream and no session to end
    if documents_business_rule(case, response.status_code):  # e.g. the 422 of a release whose ref is its base
        return None
    if breaks_path_schema(case):  # a link copied a null into the path: not a valid request
        return None
    if response.status_code == 400:
        try:
            error = str(response.json().get("error"))
        except (ValueError, AttributeError):
            error = ""
        blank = BLANK_FIELD.match(error)
        if blank is not None and _is_blank(case.body, blank.group(1)):
            return None
    return positive_data_acceptance(ctx, response, case)


def created_resource_available(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """`ensure_resource_availability`, except for a 404 about another resource than the linked one.

    The check follows a link (create a workspace, then link an account to it) and blames a 404 on the created
    resource; but the 404 may be about a random id in the *body* (`accountId`: "Account not found"). An
    operation's `x-ownership` names the error its own resource answers with, so a different error is not
    about the linked resource.
    """
    ownership = case.operation.definition.raw.get("x-ownership") or {}
    if response.status_code == 404 and ownership.get("status") == 404:
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if error != ownership.get("error"):
            return None
    return ensure_resource_availability(ctx, response, case)


def _deletes_one_entry(path: str) -> bool:
    """A DELETE on `path` that names what it removes in a required query parameter (`DELETE
    /api/workspaces/{id}/accounts?accountId=`) removes one entry of the collection, not the collection itself."""
    delete = (SPEC.raw["paths"].get(path) or {}).get("delete") or {}
    return any(p.get("in") == "query" and p.get("required") for p in delete.get("parameters") or ())


def deleted_resource_gone(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """`use_after_free`, except after a DELETE that removed one entry named in its query (the GET of the same path
    lists the collection, which rightly still exists)."""
    if _deletes_one_entry(case.operation.path):
        return None
    return use_after_free(ctx, response, case)


CHECKS: dict[str, Any] = {
    "excluded_checks": [positive_data_acceptance, ensure_resource_availability, use_after_free],
    "additional_checks": [accepts_positive_data, created_resource_available, deleted_resource_gone],
}


OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}
OPERATION_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("label", list(OPERATIONS))
def test_every_operation_conforms(label: str, mock_app: Any) -> None:
    """What `@schema.parametrize()` runs, built when the test runs instead of at collection: schemathesis computes
    an operation's coverage-phase cases when it builds its test (~50 s for all of them), and every pytest-xdist
    worker collects every test, so built at collection that work was done once per worker instead of once."""
    from schemathesis.pytest._test_builder import build_operation_test  # what the pytest plugin calls per item

    def conforms(case: schemathesis.Case) -> None:
        case.call_and_validate(**CHECKS)

    CURRENT.app = mock_app
    run = build_operation_test(
        config=schema.config,
        operation=OPERATIONS[label],
        test_func=conforms,
        given_kwargs={},
        feedback=FeedbackSources(),
        explicit_settings=OPERATION_SETTINGS,
    )
    run()


@pytest.fixture
def state_machine(fixture_world: dict[str, Any]) -> Any:
    class Workflows(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # every scenario starts from the same world, or hypothesis sees links resolve differently on replay
            CURRENT.app = create_app(MockSettings(strict=True), world=copy.deepcopy(fixture_world))

        def validate_response(
            self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                excluded_checks=CHECKS["excluded_checks"],
                additional_checks=[*(additional_checks or ()), *CHECKS["additional_checks"]],
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    return Workflows


def test_stateful_workflows_conform(state_machine: Any) -> None:
    state_machine.run(
        settings=settings(
            max_examples=30, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
        )
    )
