"""A small hand-built world for the domain tests: two teams, every account kind, open and restricted workspaces,
and a queue of pending tasks that exercises the claim rules.

    team acme (T1): ada (owner), bob (member)                team globex (T2): eve (owner)
      accounts: trigger, svc (service/worker), admin (user/admin),   accounts: globex-svc
                action (action/worker), oauth (user, oauth, 1 session)
      workspaces: web (open, repo acme/web), vault (restricted),     workspaces: globex-app (open)
                  empty (open, no tasks)
      vault links: svc canClaim+canCreate, action canClaim only

    pending tasks in web, by priority:  later (9, startAt +1h) · blocked (8, dependsOn low) · action-only (7)
                                        older-high (5) · high (5) · docker (1, needs docker) · low (0)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.spec import Spec, load_spec
from mockserver.domain.areas.workers import Workers
from mockserver.domain.auth import Principal, authenticate
from mockserver.domain.errors import DomainError
from mockserver.domain.events import Event, Outbox
from mockserver.domain.runtime import Clock, Ids, to_iso
from mockserver.domain.service import Buildd
from mockserver.domain.store import Store

EPOCH = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def uid(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-{n:012x}"


def key_for(name: str) -> str:
    return "bld_" + hashlib.sha256(name.encode()).hexdigest()


def at(minutes: float) -> str:
    return to_iso(EPOCH + timedelta(minutes=minutes))


def ms(minutes: float) -> int:
    """`at(minutes)` as epoch milliseconds (the runner's milestone `ts`)."""
    return int((EPOCH + timedelta(minutes=minutes)).timestamp() * 1000)


T1, T2 = uid(1), uid(2)
ADA, BOB, EVE = uid(11), uid(12), uid(13)
WEB, VAULT, EMPTY, GLOBEX_APP = uid(31), uid(32), uid(33), uid(34)
ACCOUNT_IDS = {
    "trigger": uid(21),
    "svc": uid(22),
    "admin": uid(23),
    "action": uid(24),
    "oauth": uid(25),
    "globex-svc": uid(26),
}
TASK_IDS = {
    "later": uid(41),
    "blocked": uid(42),
    "action-only": uid(43),
    "older-high": uid(44),
    "high": uid(45),
    "docker": uid(46),
    "low": uid(47),
    "vault-task": uid(48),
    "globex-task": uid(49),
}
SESSIONS = {"ada": "session-token-ada-0001", "bob": "session-token-bob-0001", "eve": "session-token-eve-0001"}


def _account(name: str, team: str, kind: str, level: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": ACCOUNT_IDS[name],
        "teamId": team,
        "name": name,
        "type": kind,
        "level": level,
        "authType": "api",
        "apiKeyPrefix": key_for(name)[:12],
        "githubId": None,
        "maxConcurrentWorkers": 3,
        "maxCostPerDay": None,
        "totalCost": "0",
        "maxConcurrentSessions": None,
        "activeSessions": 0,
        "budgetExhaustedAt": None,
        "budgetResetsAt": None,
        "totalTasks": 0,
        "createdAt": at(-1000 + len(name)),
        **extra,
    }


def _workspace(wid: str, name: str, team: str, mode: str, repo: str | None) -> dict[str, Any]:
    return {
        "id": wid,
        "name": name,
        "teamId": team,
        "repo": repo,
        "localPath": "main",
        "accessMode": mode,
        "dataClass": "standard",
        "maxConcurrentTasks": 10,
        "gitConfig": None,
        "memory": {},
        "createdAt": at(-900),
        "updatedAt": at(-900),
    }


def _task(name: str, workspace: str, priority: int, created: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": TASK_IDS[name],
        "workspaceId": workspace,
        "title": f"Task {name}",
        "description": None,
        "context": {},
        "status": "pending",
        "priority": priority,
        "mode": "execution",
        "runnerPreference": "any",
        "requiredCapabilities": [],
        "dependsOn": [],
        "claimedBy": None,
        "claimedAt": None,
        "expiresAt": None,
        "outputRequirement": "auto",
        "requiresReview": False,
        "backend": "claude",
        "startAt": None,
        "result": None,
        "createdAt": at(created),
        "updatedAt": at(created),
        **extra,
    }


def build_world() -> dict[str, Any]:
    accounts = [
        _account("trigger", T1, "service", "trigger"),
        _account("svc", T1, "service", "worker"),
        _account("admin", T1, "user", "admin"),
        _account("action", T1, "action", "worker"),
        _account("oauth", T1, "user", "worker", authType="oauth", maxConcurrentSessions=1),
        _account("globex-svc", T2, "service", "worker"),
    ]
    return {
        "meta": {"scenario": "domain-tests", "seed": 7},
        "teams": [
            {"id": T1, "name": "Acme", "slug": "acme", "plan": "team", "createdAt": at(-2000)},
            {"id": T2, "name": "Globex", "slug": "globex", "plan": "pro", "createdAt": at(-2000)},
        ],
        "users": [
            {"id": ADA, "email": "ada@acme.example", "name": "Ada", "createdAt": at(-2000)},
            {"id": BOB, "email": "bob@acme.example", "name": "Bob", "createdAt": at(-2000)},
            {"id": EVE, "email": "eve@globex.example", "name": "Eve", "createdAt": at(-2000)},
        ],
        "memberships": [
            {"teamId": T1, "userId": ADA, "role": "owner"},
            {"teamId": T1, "userId": BOB, "role": "member"},
            {"teamId": T2, "userId": EVE, "role": "owner"},
        ],
        "accounts": accounts,
        "credentials": [
            {
                "accountId": a["id"],
                "apiKey": key_for(a["name"]),
                "apiKeyHash": hashlib.sha256(key_for(a["name"]).encode()).hexdigest(),
            }
            for a in accounts
        ],
        "sessions": [
            {"token": SESSIONS["ada"], "userId": ADA},
            {"token": SESSIONS["bob"], "userId": BOB},
            {"token": SESSIONS["eve"], "userId": EVE},
        ],
        "accountWorkspaces": [
            {"accountId": ACCOUNT_IDS["svc"], "workspaceId": VAULT, "canClaim": True, "canCreate": True},
            {"accountId": ACCOUNT_IDS["action"], "workspaceId": VAULT, "canClaim": True, "canCreate": False},
        ],
        "workspaces": [
            _workspace(WEB, "web", T1, "open", "acme/web"),
            _workspace(VAULT, "vault", T1, "restricted", None),
            _workspace(EMPTY, "empty", T1, "open", None),
            _workspace(GLOBEX_APP, "globex-app", T2, "open", "globex/app"),
        ],
        "tasks": [
            _task("later", WEB, 9, -70, startAt=at(60)),
            _task("blocked", WEB, 8, -65, dependsOn=[TASK_IDS["low"]]),
            _task("action-only", WEB, 7, -62, runnerPreference="action"),
            _task("older-high", WEB, 5, -50),
            _task("high", WEB, 5, -30),
            _task("docker", WEB, 1, -40, requiredCapabilities=["docker"]),
            _task("low", WEB, 0, -60),
            _task("vault-task", VAULT, 0, -20),
            _task("globex-task", GLOBEX_APP, 0, -20),
        ],
        "workers": [],
        "artifacts": [],
        "schedules": [],
        "notes": [],
        "heartbeats": [],
    }


@pytest.fixture
def world() -> dict[str, Any]:
    return build_world()


class SpecChecked:
    """A `Buildd` whose every operation is checked against openapi.yaml as it runs: the returned body against the
    operation's success schema, a raised error's status and body against the responses it declares, and every
    event it emits against `x-events` (schema, channel kind, and the operation among the triggers)."""

    def __init__(self, inner: Buildd, spec: Spec) -> None:
        self._inner, self._spec = inner, spec

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        op_id = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
        operation = self._spec.operations.get(op_id)
        if operation is None or not callable(target):
            return target

        def checked(*args: Any, **kwargs: Any) -> Any:
            before = len(self._inner.outbox.peek())
            try:
                body = target(*args, **kwargs)
            except DomainError as exc:
                pointer = operation.responses.get(str(exc.status))
                assert pointer is not None, f"{op_id} raised {exc.status}, which the spec does not declare"
                _assert_valid(self._spec, pointer, exc.body(), f"{op_id} {exc.status}")
                raise
            status = "200" if "200" in operation.responses else "201"
            _assert_valid(self._spec, str(operation.responses[status]), body, f"{op_id} {status}")
            for event in self._inner.outbox.peek()[before:]:
                _assert_event(self._spec, op_id, event)
            return body

        return checked


def _assert_valid(spec: Spec, pointer: str, instance: Any, what: str) -> None:
    # contracts.spec builds `#/paths/~1api~1workers~1{id}/...` pointers that jsonschema_rs refuses as URIs
    errors = spec.check(pointer).errors(instance)
    assert not errors, f"{what} does not match the spec: {[str(e) for e in errors]}\n{instance!r}"


# a claim first fails the account's stale workers and requeues their tasks (as the sweep does); openapi.yaml's
# x-events does not list claimTasks among those events' triggers yet (reported to the spec's owner)
_UNLISTED_TRIGGERS = {("claimTasks", "worker:failed"), ("claimTasks", "task:assigned")}


def _assert_event(spec: Spec, op_id: str, event: Event) -> None:
    entry = spec.events.get(event.name)
    assert entry is not None, f"{op_id} emitted {event.name}, which x-events does not list"
    assert op_id in entry["triggers"] or (op_id, event.name) in _UNLISTED_TRIGGERS, (
        f"{op_id} emitted {event.name}, but x-events lists {entry['triggers']}"
    )
    assert event.channel.split("-", 1)[0] in entry["channels"], f"{event.name} on {event.channel}"
    _assert_valid(spec, entry["schema"], event.payload, f"event {event.name}")


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec()


@pytest.fixture
def raw_api(world: dict[str, Any]) -> Buildd:
    return Buildd(Store(world), Clock(frozen_at=EPOCH), Ids(7), Outbox())


@pytest.fixture
def api(raw_api: Buildd, spec: Spec) -> Buildd:
    """The service under test; every operation call is checked against the spec (see `SpecChecked`)."""
    return SpecChecked(raw_api, spec)  # type: ignore[return-value]


@pytest.fixture
def key(api: Buildd) -> Callable[[str], Principal]:
    """`key("svc")`: the principal of an account's fixture key."""

    def principal(name: str) -> Principal:
        return authenticate(
            api.store, authorization=f"Bearer {key_for(name)}", session_token=None, accept={"apiKey", "session"}
        )

    return principal


@pytest.fixture
def user(api: Buildd) -> Callable[[str], Principal]:
    """`user("ada")`: the principal of a fixture user's session."""

    def principal(name: str) -> Principal:
        return authenticate(api.store, authorization=None, session_token=SESSIONS[name], accept={"apiKey", "session"})

    return principal


def events(api: Buildd, name: str | None = None) -> list[Event]:
    """Drain the outbox (optionally keeping only one event name)."""
    return [e for e in api.outbox.drain() if name is None or e.name == name]


def claim(api: Buildd, principal: Principal, **body: Any) -> dict[str, Any]:
    return api.area(Workers).claim_tasks(principal, {"runner": "runner-1", **body})
