"""`run()`: preflight, the selected suites in order, cleanup (always), then the reporters.

preflight (reachable? --key and --other-key valid and of different teams?)
  -> suites by `order` (engine-backed suites share one schemathesis run)
  -> cleanup of everything created (also after a failure, Ctrl-C or SIGTERM)
  -> reporters (console, JUnit, JSON)
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.context import AUTH_KEY, AUTH_OTHER, Credentials, Progress, RunOptions, SuiteContext
from contracts.fuzz import run_engine
from contracts.registry import SUITES, Suite, suite_names
from contracts.report import Reporter
from contracts.results import Cleanup, Recorder, RunResult, SuiteResult
from contracts.safety import Guard
from contracts.spec import Spec, load_spec
from contracts.target import NO_BODY, Exchange, Target
from contracts.workbench import Workbench

__all__ = ("CheckUsageError", "run", "select_suites")

_NEED_FLAGS = {
    "key": "--key (or BUILDD_KEY)",
    "other_key": "--other-key (or BUILDD_OTHER_KEY), a key of another team",
    "session": "--session-cookie (or BUILDD_SESSION_COOKIE)",
}


class CheckUsageError(ValueError):
    """The run cannot start as asked (unknown suite, missing or refused credential). One line, exit 2."""


def select_suites(names: Sequence[str] | None) -> list[Suite]:
    """The suites to run, in run order; `None` or empty means all."""
    known = suite_names()
    wanted = [n.strip() for n in names or [] if n.strip()] or known
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise CheckUsageError(f"unknown suite {', '.join(unknown)}; choose from {', '.join(known)}")
    return sorted((SUITES.get(n) for n in dict.fromkeys(wanted)), key=lambda s: s.order)


def run(
    target: Any,
    credentials: Credentials | None = None,
    *,
    options: RunOptions | None = None,
    spec: Spec | str | Path | None = None,
    reporters: Sequence[Reporter] = (),
) -> RunResult:
    """Check a deployment (a base URL or an ASGI app) against the contract and report what is wrong.

    Example:
        result = contracts.run("http://127.0.0.1:4010", Credentials(key=..., other_key=...))
        assert result.ok, [str(f) for f in result.failures]

    Raises:
        CheckUsageError: unknown suite, or a credential a suite needs is missing or refused, or no buildd API
            answers at the base URL.
        TargetUnreachable: nothing answers at the target.
    """
    plan = _plan(credentials or Credentials(), options or RunOptions(), spec)
    tgt = _connect(target, plan)
    session = _Session(plan, tgt, reporters)
    session.announce()
    results, interrupted, cleanup = session.run_suites()
    result = session.result(results, interrupted, cleanup)
    for reporter in reporters:
        reporter.finish(result)
    return result


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the caller asked for, validated: the suites in order, the seed and the credentials."""

    options: RunOptions
    credentials: Credentials
    spec: Spec
    suites: list[Suite]
    seed: int
    run_id: str


def _plan(credentials: Credentials, options: RunOptions, spec: Spec | str | Path | None) -> _Plan:
    """Step 1: choose the suites, check each has the credentials it needs, fix the seed."""
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    suites = select_suites(options.suites)
    for s in suites:
        for need in s.needs:
            if not credentials.has(need):
                raise CheckUsageError(f"suite {s.name!r} needs {_NEED_FLAGS.get(need, need)}")
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**32)
    run_id = f"{random.Random(seed).getrandbits(32):08x}"
    return _Plan(options, credentials, loaded, suites, seed, run_id)


def _connect(target: Any, plan: _Plan) -> Target:
    """Step 2: something answers, it is a buildd API, and the keys are accepted and of different teams."""
    tgt = Target.of(target, timeout=plan.options.timeout, rate_limit=plan.options.rate_limit)
    tgt.preflight()
    _check_credentials(tgt, plan.credentials, plan.suites)
    return tgt


class _Session:
    """Steps 3-5: one context per suite, the suites in order (the engine once), cleanup, the result."""

    def __init__(self, plan: _Plan, target: Target, reporters: Sequence[Reporter]) -> None:
        self.plan, self.target, self.reporters = plan, target, reporters
        self.recorder = Recorder()
        self.workbench = Workbench(
            target,
            plan.credentials,
            run_id=plan.run_id,
            read_only=plan.options.read_only,
            secrets=plan.credentials.secrets,
            spec=plan.spec,
        )
        self.guard = Guard(plan.spec, self.workbench)
        self.started = time.perf_counter()
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.contexts = {s.name: self._context(s) for s in plan.suites}

    def _emit(self, suite: str, what: str, n: int) -> None:
        for reporter in self.reporters:
            reporter.progress(suite, what, n)

    def _context(self, s: Suite) -> SuiteContext:
        plan = self.plan
        return SuiteContext(
            suite=s.name,
            spec=plan.spec,
            target=self.target,
            credentials=plan.credentials,
            options=plan.options,
            rng=random.Random(f"{plan.seed}:{s.name}"),
            run_id=plan.run_id,
            recorder=self.recorder,
            workbench=self.workbench,
            guard=self.guard,
            progress=Progress(s.name, self._emit),
        )

    def announce(self) -> None:
        for reporter in self.reporters:
            reporter.start(
                [(s.name, s.title) for s in self.plan.suites],
                seed=self.plan.seed,
                run_id=self.plan.run_id,
                target=self.target.base_url,
            )

    def run_suites(self) -> tuple[list[SuiteResult], bool, Cleanup]:
        """Every suite in order; cleanup always runs (also after Ctrl-C or SIGTERM)."""
        results: list[SuiteResult] = []
        interrupted = False
        engine_done = False
        cleanup = Cleanup()
        with _sigterm_as_interrupt():
            try:
                for s in self.plan.suites:
                    result, engine_done = self._run_suite(s, engine_done)
                    results.append(result)
                    for reporter in self.reporters:
                        reporter.progress(s.name, "done", 0)
                    if result.error == "interrupted":
                        interrupted = True
                        break
            finally:
                with _interrupts_ignored():
                    cleanup = self.workbench.cleanup()
        return results, interrupted, cleanup

    def _run_suite(self, s: Suite, engine_done: bool) -> tuple[SuiteResult, bool]:
        """One suite; an error stops that suite only (its checks so far still count)."""
        ctx = self.contexts[s.name]
        t0, r0 = time.perf_counter(), self.target.requests_sent
        error = None
        try:
            if s.engine and not engine_done:
                engine_done = True
                run_engine([self.contexts[x.name] for x in self.plan.suites if x.engine])
            if s.run is not None:
                s.run(ctx)
        except KeyboardInterrupt:
            error = "interrupted"
        except Exception as exc:  # noqa: BLE001  (a suite that cannot go on must not take the others down)
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
        result = SuiteResult(
            name=s.name,
            title=s.title,
            checks=self.recorder.for_suite(s.name),
            duration=time.perf_counter() - t0,
            requests=self.target.requests_sent - r0,
            notes=self.recorder.notes(s.name),
            error=error,
        )
        return result, engine_done

    def result(self, results: list[SuiteResult], interrupted: bool, cleanup: Cleanup) -> RunResult:
        plan, tgt = self.plan, self.target
        return RunResult(
            run_id=plan.run_id,
            seed=plan.seed,
            target=tgt.base_url if not tgt.is_asgi else "asgi://app",
            read_only=plan.options.read_only,
            started_at=self.started_at,
            duration=time.perf_counter() - self.started,
            suites=results,
            requests=tgt.requests_sent,
            cleanup=cleanup,
            interrupted=interrupted,
            options={**plan.options.as_dict(), "seed": plan.seed},
        )


def _check_credentials(target: Target, credentials: Credentials, suites: Sequence[Suite]) -> None:
    """A refused or same-team key would make every finding noise: stop early with one line."""
    needs = {n for s in suites for n in s.needs}
    accounts: dict[str, dict[str, Any]] = {}
    for auth, flag in ((AUTH_KEY, "--key"), (AUTH_OTHER, "--other-key")):
        if (auth == AUTH_KEY and not credentials.key) or (auth == AUTH_OTHER and "other_key" not in needs):
            continue
        exchange = target.send("GET", "/api/accounts/me", headers=credentials.headers(auth))
        accounts[auth] = _preflight_account(target, flag, exchange)
    if AUTH_KEY in accounts and AUTH_OTHER in accounts:
        mine, other = accounts[AUTH_KEY], accounts[AUTH_OTHER]
        same = mine.get("id") == other.get("id") or (
            mine.get("teamId") is not None and mine.get("teamId") == other.get("teamId")
        )
        if same:
            raise CheckUsageError(
                "--other-key must belong to another team than --key (ownership is checked across teams)"
            )


def _preflight_account(target: Target, flag: str, exchange: Exchange) -> dict[str, Any]:
    """Blame the right thing: 401/403 the key, 404 or non-JSON the base URL; any 2xx goes on to the suites.

    Anything else (a 203, a 5xx) is the deployment's answer to judge, not a usage error: the suites report it.
    """
    url = f"{target.base_url.rstrip('/')}/api/accounts/me" if not target.is_asgi else "/api/accounts/me (ASGI app)"
    if exchange.status in (401, 403):
        raise CheckUsageError(f"{flag} was refused: GET {url} answered {exchange.describe(120)}")
    body = exchange.json()
    if exchange.status == 404 or (exchange.status < 500 and body is NO_BODY):
        raise CheckUsageError(
            f"no buildd API at {target.base_url}: GET {url} answered {exchange.describe(120)}"
            " (is the base URL right, without a path prefix like /api?)"
        )
    return body if isinstance(body, dict) else {}


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job cancelled) becomes KeyboardInterrupt, so cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Cleanup is not interrupted by a second Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
