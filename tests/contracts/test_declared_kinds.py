"""The ownership suite reaches a resource kind it has no code for, from the spec alone (contracts/declared.py).

The throwaway `widget` of tests/mockserver/test_resource_layer.py (spec entries plus a mock declaration, nothing
in `contracts/`) is created under the owner's workspace, probed on get/update/delete with the other team's key
and session, re-read to see it unchanged, and deleted at the end. A mock whose widget routes forget the team
check is caught with `ownership.widget-404` on the sub-resource's operation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import contracts
from contracts.declared import kind_operations, path_ids
from contracts.spec import load_spec
from tests.contracts.conftest import FAST
from tests.mockserver.test_resource_layer import widget_spec  # noqa: F401  (the fixture)

OPTIONS = dataclasses.replace(FAST, suites=("ownership",), operations=("*widget*",))


def test_the_spec_says_how_to_make_read_and_delete_a_widget(widget_spec: Path) -> None:  # noqa: F811
    spec = load_spec(widget_spec)
    ops = kind_operations(spec)["widget"]
    assert ops.create is not None and ops.create.path == "/api/workspaces/{workspaceId}/widgets"
    assert ops.get is not None and ops.get.path == "/api/widgets/{widgetId}"
    assert ops.delete is not None and ops.list is not None and ops.list_field == "widgets"
    assert path_ids(ops.create, {"workspace": "w1"}) == {"workspaceId": "w1"}


def test_a_kind_without_code_is_probed_and_cleaned_up(
    widget_spec: Path,  # noqa: F811
    make_app: Callable[[], Any],
    credentials_for: Callable[[Any], contracts.Credentials],
) -> None:
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=OPTIONS, spec=load_spec(widget_spec))
    assert not result.failures, "\n\n".join(str(f) for f in result.failures)
    verified = {(c.rule, c.operation) for s in result.suites for c in s.checks if c.runs and not c.skipped}
    for label in ("GET /api/widgets/{widgetId}", "PATCH /api/widgets/{widgetId}", "DELETE /api/widgets/{widgetId}"):
        assert ("ownership.widget-404", label) in verified, sorted(verified)
    assert ("ownership.widget-unchanged", "PATCH /api/widgets/{widgetId}") in verified
    assert any(d.startswith("widget ") for d in result.cleanup.deleted), result.cleanup


def test_a_widget_route_without_the_team_check_is_caught(
    widget_spec: Path,  # noqa: F811
    make_app: Callable[[], Any],
    credentials_for: Callable[[Any], contracts.Credentials],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mockserver.domain.resources.engine import ResourceEngine

    def any_record(self: Any, rop: Any, res: Any, principal: Any, record_id: str) -> Any:
        return self.store.get(res.table, record_id) or original(self, rop, res, principal, record_id)

    original = ResourceEngine._record
    monkeypatch.setattr(ResourceEngine, "_record", any_record)
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=OPTIONS, spec=load_spec(widget_spec))
    assert result.exit_code == 1
    caught = {(f.rule, f.operation) for f in result.failures}
    assert ("ownership.widget-404", "GET /api/widgets/{widgetId}") in caught, caught


def test_kinds_named_by_links_components_and_the_external_marker() -> None:
    """createRole answers `{skill: Role}` (found through its link to getRole), createIngestJob `{job: IngestJob|null}`
    (found through the component); installations and PRs are never made, only found in their lists."""
    kinds = kind_operations(load_spec())
    role, job = kinds["role"], kinds["ingestJob"]
    assert role.create is not None and role.create.operation_id == "createRole" and role.create_field == "skill"
    assert job.create is not None and job.create.operation_id == "createIngestJob" and job.create_field == "job"
    assert job.list is not None and job.list_field == "jobs"
    for kind, field in (("installation", "installations"), ("pullRequest", "items")):
        assert kinds[kind].create is None and kinds[kind].external, kinds[kind]
        assert kinds[kind].list is not None and kinds[kind].list_field == field
    assert kinds["pullRequest"].id_field == "prNumber"


NEW_KINDS = ("*Role*", "*IngestJob*", "*GithubInstallation*")


def test_role_ingest_job_and_installation_are_probed(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials]
) -> None:
    app = make_app()
    options = dataclasses.replace(FAST, suites=("ownership",), operations=NEW_KINDS)
    result = contracts.run(app, credentials_for(app), options=options)
    assert not result.failures, "\n\n".join(str(f) for f in result.failures)
    verified = {(c.rule, c.operation) for s in result.suites for c in s.checks if c.runs and not c.skipped}
    assert ("ownership.role-404", "GET /api/roles/{id}") in verified, sorted(verified)
    assert ("ownership.ingestJob-404", "POST /api/knowledge/ingest-jobs/{id}/complete") in verified
    assert ("ownership.installation-404", "DELETE /api/github/installations/{id}") in verified
    assert any(d.startswith("role ") for d in result.cleanup.deleted), result.cleanup
    assert any(x.startswith("ingestJob ") for x in result.cleanup.leftovers), result.cleanup  # nothing deletes one


def test_a_role_route_without_the_team_check_is_caught(
    make_app: Callable[[], Any],
    credentials_for: Callable[[Any], contracts.Credentials],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The other team's session reads the owner's new role: `ownership.role-404` names getRole."""
    from tests.contracts.mutants import Keys, Rewrite

    app = make_app()
    creds = credentials_for(app)
    owner = creds.session_cookie or ""

    def as_owner(req: Any, keys: Keys) -> Any:
        cookie = req.headers.get("cookie", "")
        if req.method == "GET" and req.path.startswith("/api/roles/") and cookie and owner not in cookie:
            req.headers["cookie"] = f"authjs.session-token={owner}"
        return req

    mutant = Rewrite(
        "role-read-across-teams", "ownership.role-404", "GET /api/roles/{id}", ("ownership",), before=as_owner
    )
    broken = mutant.apply(app, Keys(owner_key=creds.key or "", owner_session=owner), monkeypatch)
    options = dataclasses.replace(FAST, suites=("ownership",), operations=("*Role*",))
    result = contracts.run(broken, creds, options=options)
    caught = {(f.rule, f.operation) for f in result.failures}
    assert ("ownership.role-404", "GET /api/roles/{id}") in caught, caught


def _already_queued(req: Any, keys: Any) -> Any:
    """The real route's answer to the owner when the workspace already has a queued job: 200 and no job."""
    from tests.contracts.mutants import Resp

    owner = req.headers.get("authorization") == f"Bearer {keys.owner_key}"
    if owner and req.method == "POST" and req.path == "/api/knowledge/ingest-jobs":
        return Resp.json(200, {"job": None, "reason": "already_queued"})
    return req


def test_a_kind_the_server_will_not_make_is_probed_on_one_the_owner_has(
    run_broken: Callable[..., Any],
) -> None:
    """Not a broken server: a queued ingest job (seeded in acme-web) blocks a new one, so the suite probes the
    owner's existing job instead of leaving the kind unverified."""
    from tests.contracts.mutants import Rewrite

    refusing = Rewrite("ingest-already-queued", "ownership.ingestJob-404", "*", ("ownership",), before=_already_queued)
    options = dataclasses.replace(FAST, suites=("ownership",), operations=("*ingest-jobs*",))
    result, _ = run_broken(refusing, options)
    assert result.ok, [str(f) for f in result.failures]
    ran = [c for s in result.suites for c in s.checks if c.rule == "ownership.ingestJob-404"]
    assert ran and all(c.runs > 0 for c in ran), [(c.operation, c.reason) for c in ran]
