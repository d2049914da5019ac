"""Suite `ownership`: another team's credentials get exactly the `x-ownership` answer, and change nothing.

The first account's resources (`--key`): a task in `--workspace` (or the key's first workspace), the worker that
claims it, an artifact on that worker, a schedule, the workspace and the account itself — created and tagged, or
under --read-only discovered through list endpoints (writes are then skipped). Every operation with an
`x-ownership` rule is called on them with `--other-key` (and `--other-session-cookie` where sessions are
accepted), reads first, writes next, deletes last. The answer must be the rule's status and `{"error": ...}`;
after each write the owner re-reads the resource and it must be unchanged. Lists must not show it either, unless
the list declares shared records (`x-shared-in`) and the owner's own shares list confirms the share.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from contracts.context import AUTH_KEY, AUTH_OTHER, AUTH_OTHER_SESSION, Skip, SuiteContext
from contracts.declared import kind_operations, path_ids
from contracts.failures import OwnershipViolation, ResourceChangedByOther, ServerError
from contracts.plan import example_body
from contracts.registry import declare, suite
from contracts.shares import shared_in, shared_with
from contracts.signatures import EXTENSION as SIGNATURE
from contracts.target import Exchange
from contracts.workbench import WorkbenchError

if TYPE_CHECKING:
    from contracts.spec import Operation, Ownership
    from contracts.workbench import Owned

SUITE = "ownership"
LIST_RULE = "ownership.list-hidden"
FILTER_RULE = "ownership.query-filter"
_ORDER = {"GET": 0, "HEAD": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}

declare(
    "ownership.{resource}-{status}",
    suite=SUITE,
    title="Another team's credential gets the x-ownership status and error",
    failure=OwnershipViolation,
)
declare(
    "ownership.{resource}-unchanged",
    suite=SUITE,
    title="A refused request leaves the owner's resource unchanged",
    failure=ResourceChangedByOther,
)
declare(
    LIST_RULE,
    suite=SUITE,
    title="Lists never show another team's resources",
    failure=OwnershipViolation,
    hint="Scope list queries to the caller's teams (and, for keys, to linked or open workspaces of its team).",
)

declare(
    FILTER_RULE,
    suite=SUITE,
    title="Another team's id in an optional query filter is refused or filters everything of theirs out",
    failure=OwnershipViolation,
    hint="Resolve a filter id within the caller's teams: answer 404 for one outside them, or narrow to nothing.",
)

# where the first account's resources show up when the owner reads them back
_PATH_IDS = {"scheduleId": "schedule", "artifactId": "artifact"}


def rule_id(rule: Ownership) -> str:
    return f"ownership.{rule.resource}-{rule.status}"


def expected_answer(rule: Ownership) -> str:
    return f"{rule.status} {json.dumps({'error': rule.error})}"


class Snapshots:
    """What the owner sees of each resource kind; `changed(kind)` re-reads and describes any difference."""

    def __init__(self, ctx: SuiteContext, owned: Owned) -> None:
        self.ctx = ctx
        self.owned = owned
        self._base: dict[str, Any] = {}

    def _get(self, path: str, params: dict[str, Any] | None = None, auth: str = AUTH_KEY) -> Any:
        exchange = self.ctx.send("GET", path, auth=auth, params=params)
        body = exchange.json()
        return body if exchange.status == 200 else f"GET {path} answered {exchange.describe(120)}"

    def read(self, kind: str) -> Any:
        ids, tag = self.owned.ids, self.ctx.workbench.tag
        rid = ids[kind]
        if kind == "task":
            return {
                "task": self._get(f"/api/tasks/{rid}", {"include": "workers,artifacts"}),
                "messages": self._get(f"/api/tasks/{rid}/messages"),
            }
        if kind == "worker":
            view: dict[str, Any] = {
                "worker": self._get(f"/api/workers/{rid}"),
                "artifacts": self._get(f"/api/workers/{rid}/artifacts"),
            }
            if self.owned.task_of_worker:
                view["messages"] = self._get(f"/api/tasks/{self.owned.task_of_worker}/messages")
            return view
        if kind == "artifact":
            return self._get(f"/api/artifacts/{rid}")
        if kind == "schedule":
            return self._get(f"/api/workspaces/{self.owned.workspace_of_schedule}/schedules/{rid}")
        if kind == "workspace":
            listing = self._get("/api/workspaces")
            found = list(listing.get("workspaces", [])) if isinstance(listing, dict) else listing
            tasks = self._get("/api/tasks", {"workspaceId": rid})
            ours = (
                sorted(t.get("id") for t in tasks.get("tasks", []) if tag in str(t.get("title", "")))
                if isinstance(tasks, dict)
                else tasks
            )
            return {
                "workspace": [w for w in found if isinstance(w, dict) and w.get("id") == rid]
                if isinstance(found, list)
                else found,
                "schedules": self._get(f"/api/workspaces/{rid}/schedules"),
                "tagged_tasks": ours,
            }
        if kind == "account":
            return self._get("/api/accounts/me")
        return self._read_declared(kind, rid)

    def _read_declared(self, kind: str, rid: str) -> Any:
        """Any other kind: its get operation, else its list (the record with our id), as the spec says."""
        ops = kind_operations(self.ctx.spec).get(kind)
        op = ops.get if ops is not None else None
        if op is not None:
            request = self.ctx.plan(op, path_ids(op, {**self.owned.ids, kind: rid}))
            return self._get(request.path, request.params or None, self._auth(op))
        if ops is not None and ops.list is not None:
            request = self.ctx.plan(ops.list, path_ids(ops.list, self.owned.ids))
            listing = self._get(request.path, request.params or None, self._auth(ops.list))
            items = listing.get(ops.list_field or "") if isinstance(listing, dict) else listing
            return (
                [i for i in items if isinstance(i, dict) and str(i.get(ops.id_field)) == rid]
                if isinstance(items, list)
                else items
            )
        raise Skip(f"no way to re-read a {kind}: the spec has no get or list operation for it")

    def _auth(self, op: Operation) -> str:
        try:
            return self.ctx.workbench.auth_for(op)
        except WorkbenchError as exc:
            raise Skip(str(exc)) from None

    def baseline(self, kind: str) -> None:
        """Read the resource right before a write (earlier writes, ours or a broken server's, are not blamed)."""
        self._base[kind] = self.read(kind)

    def changed(self, kind: str) -> str | None:
        before = self._base.get(kind)
        after = self._base[kind] = self.read(kind)
        if before is None or before == after:
            return None
        return "; ".join(_diff(before, after)[:5]) or "the resource differs"


def _diff(a: Any, b: Any, where: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key, _MISSING) != b.get(key, _MISSING):
                out += _diff(a.get(key, _MISSING), b.get(key, _MISSING), f"{where}.{key}" if where else str(key))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                out += _diff(x, y, f"{where}[{i}]")
        return out
    return [f"{where or '(root)'}: {_short(a)} -> {_short(b)}"]


_MISSING = "<absent>"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:80] + "…"


def _variants(ctx: SuiteContext, op: Operation) -> list[tuple[str, Ownership]]:
    """(credential, expected rule) pairs to try on `op`."""
    assert op.ownership is not None
    found: list[tuple[str, Ownership]] = []
    if "apiKey" in op.schemes:
        found.append((AUTH_OTHER, op.ownership))
    if "session" in op.schemes and ctx.credentials.other_session_cookie:
        found.append((AUTH_OTHER_SESSION, op.ownership.session or op.ownership))
    return found


def no_variant_reason(ctx: SuiteContext, op: Operation) -> str | None:
    """Why no credential of another team can be tried on `op` (`_variants` is empty), in words true to its
    `security`: None for a public operation (nobody's credential is its gate: no ownership to probe, so nothing
    is counted unverified), a skip reason otherwise."""
    if op.is_public and op.raw.get(SIGNATURE) is None:
        return None
    if op.is_public:
        return "signature-only operation (x-signature): no team credential to try; the webhooks suite probes it"
    if "session" in op.schemes and not ctx.credentials.other_session_cookie:
        return "session-only operation: needs --other-session-cookie"
    return f"no credential of another team for its security ({', '.join(sorted(op.schemes))})"


def probe(ctx: SuiteContext, op: Operation, owned: Owned, snapshots: Snapshots) -> None:
    rule = op.ownership
    assert rule is not None
    label = op.label
    resource_id = owned.get(rule.resource)
    variants = _variants(ctx, op)
    if not variants:
        reason = no_variant_reason(ctx, op)
        if reason is None:
            ctx.recorder.note(SUITE, f"{label}: public (no credential gates it), no ownership to probe")
        else:
            ctx.skip(rule_id(rule), label, reason)
        return
    if resource_id is None:
        ctx.skip(rule_id(rule), label, f"no {rule.resource}: {owned.missing.get(rule.resource, 'unavailable')}")
        return
    writes = op.method not in ("GET", "HEAD")
    if writes and not owned.created:
        ctx.skip(rule_id(rule), label, "writes are not probed under --read-only")
        return
    ids = path_ids(op, owned.ids)
    ids.update({name: owned.ids[kind] for name, kind in _PATH_IDS.items() if kind in owned.ids})
    ids["accountId"] = owned.ids.get("account", "")
    body = None
    if rule.location == "body":
        body = example_body(ctx.spec, op, ctx.uuid)
        if isinstance(body, dict):
            body[rule.name] = resource_id
    else:
        ids[rule.name] = resource_id
    for auth, expected in variants:
        if writes:
            snapshots.baseline(rule.resource)
        plan = ctx.plan(op, ids, body=body)
        if rule.location == "query":  # the planner fills required query parameters only; the rule's may be optional
            plan.params[rule.name] = resource_id
        exchange = ctx.call(plan, auth=auth)
        with ctx.checking(rule_id(expected), label):
            _expect(ctx, expected, label, exchange)
        if writes:
            with ctx.checking(f"ownership.{rule.resource}-unchanged", label):
                difference = snapshots.changed(rule.resource)
                if difference:
                    ctx.fail(
                        ResourceChangedByOther,
                        f"ownership.{rule.resource}-unchanged",
                        label,
                        expected=f"the owner's {rule.resource} unchanged after the refused request",
                        actual=f"changed: {difference}",
                        exchange=exchange,
                    )


def _expect(ctx: SuiteContext, rule: Ownership, label: str, exchange: Exchange) -> None:
    expected = expected_answer(rule)
    if exchange.status == 0:
        ctx.fail(ServerError, rule_id(rule), label, expected=expected, exchange=exchange)
    body = exchange.json()
    error = body.get("error") if isinstance(body, dict) else None
    if exchange.status != rule.status or error != rule.error:
        ctx.fail(OwnershipViolation, rule_id(rule), label, expected=expected, exchange=exchange)


def _records_in(exchange: Exchange, field: str) -> dict[str, Any]:
    """The listed records by id."""
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict):
        return {}
    value = body.get(field)
    if isinstance(value, dict):  # {"workspace": {...}} (by-repo)
        value = [value]
    return {str(item.get("id")): item for item in value or [] if isinstance(item, dict)}


class SharedRecords:
    """Whether another team's list may show one of the owner's records because the owner shared it with that team
    (`x-shared-in` on the list, contracts/shares.py): the record must say so AND the owner's own list of the
    record's shares must name the other key's team. Anything less is a leak."""

    def __init__(self, ctx: SuiteContext) -> None:
        self.ctx = ctx
        self._team: str | None = None

    def _other_team(self) -> str:
        if self._team is None:
            exchange = self.ctx.send("GET", "/api/accounts/me", auth=AUTH_OTHER)
            body = exchange.json()
            team = body.get("teamId") if exchange.status == 200 and isinstance(body, dict) else None
            if not team:
                raise Skip(f"a record is listed as shared, but GET /api/accounts/me names no teamId for {AUTH_OTHER}")
            self._team = str(team)
        return self._team

    def confirm(self, listing: Operation | None, kind: str, rid: str, record: Any) -> str | None:
        """None when the listed record is shared with the other key's team (noted), else why it is not."""
        marked = shared_in(listing) if listing is not None else None
        if marked is None:
            return "the list declares no shared records (x-shared-in)"
        if not marked.marked(record):
            return f"not marked `{marked.field}: true`"
        shares_op = self.ctx.spec.operations.get(marked.shares)
        if shares_op is None:
            return f"x-shared-in names no operation {marked.shares}"
        try:
            auth = self.ctx.workbench.auth_for(shares_op)
        except WorkbenchError as exc:
            raise Skip(f"cannot confirm the share of {kind} {rid}: {exc}") from None
        request = self.ctx.plan(shares_op, path_ids(shares_op, {kind: rid}))
        exchange = self.ctx.send("GET", request.path, auth=auth, params=request.params or None)
        team = self._other_team()
        if exchange.status != 200:
            return f"marked shared, but the owner's {shares_op.label} answered {exchange.describe(120)}"
        if team not in shared_with(marked, exchange.json()):
            return f"marked shared, but the owner's {shares_op.label} does not name the caller's team {team}"
        assert listing is not None
        self.ctx.recorder.note(
            SUITE, f"{listing.label}: {kind} {rid} is shared with the other team ({shares_op.label} names it)"
        )
        return None


def lists_hide(ctx: SuiteContext, owned: Owned, shared: SharedRecords) -> None:
    """The other key's lists must not contain the first account's resources (but for those the owner shared with
    the other team, where the list declares shares: `SharedRecords`)."""
    checks: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
        ("task", "/api/tasks", None, "tasks", "GET /api/tasks"),
        ("workspace", "/api/workspaces", None, "workspaces", "GET /api/workspaces"),
        ("artifact", "/api/artifacts", None, "artifacts", "GET /api/artifacts"),
        ("worker", "/api/workers/mine", None, "workers", "GET /api/workers/mine"),
    ]
    if "workspace" in owned.ids:
        checks.append(("task", "/api/tasks", {"workspaceId": owned.ids["workspace"]}, "tasks", "GET /api/tasks"))
    for kind, ops in sorted(kind_operations(ctx.spec).items()):  # the caller-scoped lists of every other kind
        listing = ops.list
        if kind in {c[0] for c in checks} or listing is None or listing.path_params() or not ops.list_field:
            continue
        checks.append((kind, listing.path, None, ops.list_field, listing.label))
    for kind, path, params, field, label in checks:
        if not ctx.selected(label):
            continue
        with ctx.checking(LIST_RULE, label):
            rid = owned.get(kind)
            if rid is None:
                raise Skip(f"no {kind}: {owned.missing.get(kind, 'unavailable')}")
            exchange = ctx.send("GET", path, auth=AUTH_OTHER, params=params)
            if exchange.status == 0 or exchange.status >= 500:
                ctx.fail(ServerError, LIST_RULE, label, expected="200 without our resources", exchange=exchange)
            listed = _records_in(exchange, field)
            if rid not in listed:
                continue
            why = shared.confirm(ctx.spec.find("GET", path), kind, rid, listed[rid])
            if why is not None:
                ctx.fail(
                    OwnershipViolation,
                    LIST_RULE,
                    label,
                    expected=f"another team's {kind} {rid} not listed (unless shared with the caller's team)",
                    actual=f"{exchange.status}: listed among `{field}` ({why})",
                    exchange=exchange,
                )


def _filter_probes(ctx: SuiteContext, owned: Owned) -> list[tuple[Operation, str, str]]:
    """(operation, query parameter, owner's id) for every optional query id of a caller-scoped read that no
    `x-ownership` rule covers (the spec marks these `x-filter: team`; the lint keeps every id marked)."""
    found: list[tuple[Operation, str, str]] = []
    for op in ctx.spec.api_operations():
        if op.method != "GET" or op.path_params() or "apiKey" not in op.schemes or not ctx.selected(op):
            continue
        covered = op.ownership.name if op.ownership and op.ownership.location == "query" else None
        for param in op.query_params():
            name = str(param.get("name"))
            if param.get("required") or name == covered or not name.endswith("Id"):
                continue
            rid = owned.get(name[:-2])
            if rid is not None:
                found.append((op, name, rid))
    return found


def _ids_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {i for v in value.values() for i in _ids_anywhere(v)}
    if isinstance(value, list):
        return {i for v in value for i in _ids_anywhere(v)}
    return {value} if isinstance(value, str) else set()


def _listed_records(value: Any) -> dict[str, Any]:
    """The records (objects with an `id`) in the top-level arrays of a list answer, by id."""
    arrays = [v for v in value.values() if isinstance(v, list)] if isinstance(value, dict) else []
    return {str(r["id"]): r for a in arrays for r in a if isinstance(r, dict) and "id" in r}


def filters_refuse_or_hide(ctx: SuiteContext, owned: Owned, shared: SharedRecords) -> None:
    """Another team's key naming the first account's resource in an optional filter (`?workspaceId=`) gets a
    refusal (`4xx {"error": ...}`) or an answer with none of the first account's other resources in it."""
    for op, name, rid in _filter_probes(ctx, owned):
        label = op.label
        with ctx.checking(FILTER_RULE, label):
            request = ctx.plan(op, {}, body=None)
            params = {k: v for k, v in (request.params or {}).items() if not str(k).endswith("Id")}
            exchange = ctx.send("GET", op.path, auth=AUTH_OTHER, params={**params, name: rid})
            expected = f'with another team\'s {name}: 4xx {{"error": ...}}, or 200 without their resources'
            if exchange.status == 0 or exchange.status >= 500:
                ctx.fail(ServerError, FILTER_RULE, label, expected=expected, exchange=exchange)
            body = exchange.json()
            if exchange.status >= 400:
                if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
                    ctx.fail(OwnershipViolation, FILTER_RULE, label, expected=expected, exchange=exchange)
                continue
            theirs = {v: k for k, v in owned.ids.items() if v != rid and k not in ("account", "team")}
            records = _listed_records(body)
            leaked = sorted(
                f"{theirs[i]} {i}"
                for i in _ids_anywhere(body)
                if i in theirs and (i not in records or shared.confirm(op, theirs[i], i, records[i]) is not None)
            )
            if leaked:
                ctx.fail(
                    OwnershipViolation,
                    FILTER_RULE,
                    label,
                    expected=expected,
                    actual=f"{exchange.status} with the other team's {', '.join(leaked[:3])} (?{name}={rid})",
                    exchange=exchange,
                )


def reads_in_every_mode(ctx: SuiteContext, owned: Owned, operations: list[Operation], snapshots: Snapshots) -> None:
    """The workspace reads again on one more workspace per access mode the key sees (no `--workspace` needed)."""
    reads = [op for op in operations if op.method == "GET" and op.ownership and op.ownership.resource == "workspace"]
    if not reads:
        return
    for mode, workspace_id in sorted(ctx.workbench.workspaces_by_mode().items()):
        ctx.recorder.note(SUITE, f"workspace reads also probed on a {mode} workspace ({workspace_id})")
        other = dataclasses.replace(owned, ids={**owned.ids, "workspace": workspace_id})
        for op in reads:
            probe(ctx, op, other, snapshots)


@suite("ownership", title="Ownership across teams", order=40, needs=("key", "other_key"), mutates=True)
def run_ownership(ctx: SuiteContext) -> None:
    """Another team's key gets the x-ownership answer on the first account's resources and changes nothing."""
    owned = ctx.workbench.owned()
    for kind, reason in owned.missing.items():
        ctx.recorder.note(SUITE, f"no {kind} to probe: {reason}")
    operations = sorted(
        (op for op in ctx.spec.api_operations() if op.ownership is not None and ctx.selected(op)),
        key=lambda op: (_ORDER.get(op.method, 1), op.path, op.method),
    )
    ctx.progress.total(len(operations) + 1)
    snapshots = Snapshots(ctx, owned)
    try:
        for op in operations:
            probe(ctx, op, owned, snapshots)
            ctx.progress.advance()
        shared = SharedRecords(ctx)
        lists_hide(ctx, owned, shared)
        filters_refuse_or_hide(ctx, owned, shared)
        ctx.progress.advance()
        reads_in_every_mode(ctx, owned, operations, snapshots)
    finally:
        if owned.created and "worker" in owned.ids:  # give the account's worker slot back for later suites
            ctx.workbench.finish_worker(owned.ids["worker"], "failed")
