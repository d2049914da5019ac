"""What a suite works with: the target, the spec, the caller's credentials, options, a seeded rng, the recorder."""

from __future__ import annotations

import copy
import fnmatch
import random
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from contracts.curl import Secrets
from contracts.failures import ContractFailure
from contracts.plan import RequestPlan
from contracts.plan import plan as make_plan
from contracts.target import NO_BODY, Exchange, Target

if TYPE_CHECKING:
    from contracts.results import Recorder
    from contracts.safety import Guard
    from contracts.spec import Operation, Spec
    from contracts.workbench import Workbench

__all__ = (
    "AUTH_KEY",
    "AUTH_OTHER",
    "AUTH_OTHER_SESSION",
    "AUTH_SESSION",
    "Credentials",
    "NotApplicable",
    "RunOptions",
    "Skip",
    "SuiteContext",
    "session_token",
)

AUTH_KEY = "key"
AUTH_OTHER = "other"
AUTH_SESSION = "session"
AUTH_OTHER_SESSION = "other-session"
SESSION_COOKIE = "authjs.session-token"
Auth = str | Mapping[str, str] | None


class Skip(Exception):
    """Raised inside a check: the rule cannot be verified here (the reason is reported, it is no failure)."""


class NotApplicable(Exception):
    """Raised inside a check: the rule does not concern this operation (nothing is recorded)."""


def session_token(value: str | None) -> str | None:
    """`authjs.session-token=abc` or `abc` -> `abc`."""
    if not value:
        return None
    value = value.strip()
    m = re.search(rf"{re.escape(SESSION_COOKIE)}=([^;\s]+)", value)
    return m.group(1) if m else value


@dataclass(frozen=True, slots=True)
class Credentials:
    """Everything secret a run uses. Nothing in `contracts` reads keys from anywhere else."""

    key: str | None = None
    other_key: str | None = None
    session_cookie: str | None = None
    other_session_cookie: str | None = None
    workspace: str | None = None
    cron_secret: str | None = None  # the deployment's CRON_SECRET: lets the cron suite run its scheduled jobs

    def __post_init__(self) -> None:
        object.__setattr__(self, "session_cookie", session_token(self.session_cookie))
        object.__setattr__(self, "other_session_cookie", session_token(self.other_session_cookie))

    def has(self, what: str) -> bool:
        return bool(
            {
                "key": self.key,
                "other_key": self.other_key,
                "session": self.session_cookie,
                "other_session": self.other_session_cookie,
            }.get(what)
        )

    @property
    def secrets(self) -> Secrets:
        return Secrets([self.key, self.other_key, self.session_cookie, self.other_session_cookie, self.cron_secret])

    def headers(self, auth: Auth) -> dict[str, str]:
        if auth is None:
            return {}
        if not isinstance(auth, str):
            return dict(auth)
        value = {
            AUTH_KEY: self.key,
            AUTH_OTHER: self.other_key,
            AUTH_SESSION: self.session_cookie,
            AUTH_OTHER_SESSION: self.other_session_cookie,
        }[auth]
        if value is None:
            raise Skip(f"needs {_FLAG[auth]}")
        if auth in (AUTH_KEY, AUTH_OTHER):
            return {"Authorization": f"Bearer {value}"}
        return {"Cookie": f"{SESSION_COOKIE}={value}"}


_FLAG = {
    AUTH_KEY: "--key",
    AUTH_OTHER: "--other-key",
    AUTH_SESSION: "--session-cookie",
    AUTH_OTHER_SESSION: "--other-session-cookie",
}


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How much to run and how gently (a full default check of the mock: docs/benchmarks.md)."""

    suites: tuple[str, ...] | None = None  # None: all
    read_only: bool = False
    max_examples: int = 6
    seed: int | None = None
    rate_limit: str | None = None  # "10/s"
    timeout: float = 10.0  # seconds per request
    workers: int = 2  # generated requests in flight (keeps a server in another process busy)
    state_machine_examples: int = 8
    coverage_phase: bool = True
    operations: tuple[str, ...] | None = None  # only these (operationId or "METHOD /path", globs allowed)
    fail_on_skip: bool = False  # CI gate: any check not verified fails the run
    min_coverage: float | None = None  # CI gate: at least this % of the selected checks verified

    def as_dict(self) -> dict[str, Any]:
        return {
            "suites": list(self.suites) if self.suites else None,
            "read_only": self.read_only,
            "max_examples": self.max_examples,
            "seed": self.seed,
            "rate_limit": self.rate_limit,
            "timeout": self.timeout,
            "workers": self.workers,
            "coverage": self.coverage_phase,
            "operations": list(self.operations) if self.operations else None,
            "fail_on_skip": self.fail_on_skip,
            "min_coverage": self.min_coverage,
        }


@dataclass(slots=True)
class Progress:
    """A suite's progress, forwarded to whatever renders it (a rich bar, nothing in tests)."""

    suite: str
    emit: Callable[[str, str, int], None] = field(default=lambda suite, what, n: None)

    def total(self, n: int) -> None:
        self.emit(self.suite, "total", n)

    def advance(self, n: int = 1) -> None:
        self.emit(self.suite, "advance", n)


class SuiteContext:
    """Passed to every suite and check. Sends probes, fills request plans, records outcomes."""

    def __init__(
        self,
        *,
        suite: str,
        spec: Spec,
        target: Target,
        credentials: Credentials,
        options: RunOptions,
        rng: random.Random,
        run_id: str,
        recorder: Recorder,
        workbench: Workbench,
        guard: Guard,
        progress: Progress,
    ) -> None:
        self.suite = suite
        self.spec = spec
        self.target = target
        self.credentials = credentials
        self.options = options
        self.rng = rng
        self.run_id = run_id
        self.recorder = recorder
        self.workbench = workbench
        self.guard = guard
        self.progress = progress
        self.secrets = credentials.secrets

    # ------------------------------------------------------------------ requests
    def send(
        self,
        method: str,
        path: str,
        *,
        auth: Auth = AUTH_KEY,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = NO_BODY,
        content: bytes | None = None,
        session: Any = None,
    ) -> Exchange:
        sent = self.credentials.headers(auth)
        sent.update(headers or {})
        return self.target.send(
            method, path, headers=sent, params=params, json_body=json, content=content, session=session
        )

    def call(
        self,
        plan: RequestPlan,
        *,
        auth: Auth = AUTH_KEY,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        session: Any = None,
    ) -> Exchange:
        """Send a planned request through the run's guard (creates tagged and tracked, claims pinned)."""
        body = plan.body
        if content is None and body is not NO_BODY:
            body = self.guard.prepare(plan.op.operation_id, copy.deepcopy(body))
        exchange = self.send(
            plan.op.method,
            plan.path,
            auth=auth,
            headers=headers,
            params=plan.params or None,
            json=body if content is None else NO_BODY,
            content=content,
            session=session,
        )
        self.guard.observe(plan.op.operation_id, exchange.status, exchange.json(), plan.path_values)
        return exchange

    def plan(self, op: Operation, ids: Mapping[str, str] | None = None, *, body: Any = None) -> RequestPlan:
        """`op` with the given path/query ids (fresh random UUIDs for the rest) and its example body."""
        return make_plan(self.spec, op, ids or {}, fresh_id=self.uuid, body=body)

    def selected(self, op: Operation | str) -> bool:
        """Whether `--operation` filters let `op` (an operation, or a "METHOD /path" label) through."""
        patterns = self.options.operations
        if not patterns:
            return True
        names = (op,) if isinstance(op, str) else (op.operation_id, op.label)
        return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in patterns)

    def default_auth(self, op: Operation) -> Auth:
        """The caller's own credential the operation accepts (key first), or `Skip`."""
        if op.is_public:
            return None
        if "apiKey" in op.schemes and self.credentials.key:
            return AUTH_KEY
        if "session" in op.schemes and self.credentials.session_cookie:
            return AUTH_SESSION
        raise Skip("needs --session-cookie (the operation accepts only a dashboard session)")

    def uuid(self) -> str:
        """A random, well-formed UUID from the run's seeded rng (reproducible with --seed)."""
        return str(_uuid_from(self.rng))

    def random_key(self) -> str:
        return "bld_" + "".join(self.rng.choice("0123456789abcdef") for _ in range(64))

    # ------------------------------------------------------------------ outcomes
    @contextmanager
    def checking(self, rule_id: str, operation: str) -> Iterator[None]:
        """Run one check: a `ContractFailure` is recorded as failed, `Skip` as skipped, anything else passes."""
        try:
            yield
        except NotApplicable:
            pass
        except Skip as skip:
            self.recorder.skipped(self.suite, rule_id, operation, str(skip))
        except ContractFailure as failure:
            if failure.operation is None:
                failure.operation = operation
            self.recorder.failed(self.suite, failure)
        else:
            self.recorder.passed(self.suite, rule_id, operation)

    def skip(self, rule_id: str, operation: str, reason: str) -> None:
        self.recorder.skipped(self.suite, rule_id, operation, reason)

    def fail(
        self,
        failure: type[ContractFailure],
        rule_id: str,
        operation: str,
        *,
        expected: str,
        exchange: Exchange | None = None,
        actual: str | None = None,
        hint: str | None = None,
    ) -> NoReturn:
        raise failure(
            rule=rule_id,
            operation=operation,
            expected=expected,
            actual=actual if actual is not None else (exchange.describe() if exchange else "-"),
            request=exchange.curl(self.secrets) if exchange else None,
            hint=hint,
        )


def _uuid_from(rng: random.Random) -> Any:
    import uuid

    return uuid.UUID(int=rng.getrandbits(128), version=4)
