"""Generated testing: one schemathesis engine run shared by every selected suite with `engine` checks.

The engine runs the examples, coverage and fuzzing phases (positive and negative data) over the API operations
the credentials can reach, with only the checks the selected suites map (`Suite.engine`). Each check result
is recorded under its suite and rule; schemathesis failures become our typed failures with a masked curl.
The engine's own stateful phase is off: the lifecycle suite runs the links state machine itself.
"""

from __future__ import annotations

import ast
import shlex
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from schemathesis.engine import Status, events, from_schema

from contracts.curl import to_curl
from contracts.failures import ContractFailure, ServerError
from contracts.registry import SUITES, EngineRule

if TYPE_CHECKING:
    from schemathesis.core.failures import Failure
    from schemathesis.engine.recorder import Interaction, ScenarioRecorder

    from contracts.context import SuiteContext
    from contracts.spec import Operation

__all__ = ("UNDELETABLE_WITHOUT_SESSION", "EngineError", "engine_operations", "run_engine", "single_line_curl")

PHASES = ("examples", "coverage", "fuzzing")
# creates whose result only a dashboard session can delete: not generated without one (no leftovers)
UNDELETABLE_WITHOUT_SESSION = frozenset({"createWorkspace", "createAccount"})


class EngineError(RuntimeError):
    """The engine could not run at all (e.g. the schema could not be loaded)."""


def engine_operations(ctx: SuiteContext) -> tuple[list[Operation], dict[str, str]]:
    """The operations generation covers, and why the others are left out."""
    chosen: list[Operation] = []
    left_out: dict[str, str] = {}
    for op in ctx.spec.api_operations():
        if not ctx.selected(op):
            continue
        if ctx.options.read_only and (op.method != "GET" or op.raw.get("x-writes") is True):
            # `x-writes: true`: a GET that changes state (an OAuth-style callback), so it is a write here
            left_out[op.label] = "writes are not generated under --read-only"
        elif op.schemes == frozenset({"session"}) and not ctx.credentials.session_cookie:
            left_out[op.label] = "needs --session-cookie"
        elif op.operation_id in UNDELETABLE_WITHOUT_SESSION and not ctx.credentials.session_cookie:
            left_out[op.label] = "what it creates can only be deleted with --session-cookie"
        else:
            chosen.append(op)
    return chosen, left_out


def engine_config(ctx: SuiteContext, checks: Sequence[str]) -> dict[str, Any]:
    options = ctx.options
    negative = "negative_data_rejection" in checks
    auth: dict[str, Any] = {}
    if ctx.credentials.key:
        auth["apiKey"] = {"bearer": ctx.credentials.key}
    if ctx.credentials.session_cookie:
        auth["session"] = {"api_key": ctx.credentials.session_cookie}
    enabled: dict[str, Any] = {name: {"enabled": True} for name in checks}
    if negative:
        # 413 (body too large) and 415 (not JSON) are documented rejections too
        enabled["negative_data_rejection"]["expected-statuses"] = [
            400,
            401,
            403,
            404,
            405,
            409,
            413,
            415,
            422,
            428,
            429,
        ]
    config: dict[str, Any] = {
        "seed": ctx.rng.getrandbits(63),
        "workers": options.workers,
        # no example database: a run depends on its seed alone (and replaying stored cases costs time)
        "generation": {
            "max-examples": options.max_examples,
            "mode": "all" if negative else "positive",
            "database": "none",
        },
        "checks": {"enabled": False, **enabled},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": options.coverage_phase},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "warnings": False,
        "suppress-health-check": ["all"],
    }
    if auth:
        config["auth"] = {"openapi": auth}
    return config


@contextmanager
def _serialized_ast_parse(workers: int) -> Iterator[None]:
    """`ast.parse` behind a lock while generation runs in several threads.

    CPython 3.11 keeps the AST converter's recursion depth per interpreter, so two threads parsing at once
    can fail with "AST constructor recursion depth mismatch"; Hypothesis parses module sources to describe
    the lambdas in schemathesis' strategies. Restored afterwards; a no-op on 3.12+ or with one worker.
    """
    if workers <= 1 or sys.version_info >= (3, 12):
        yield
        return
    original = ast.parse
    lock = threading.Lock()

    def parse(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(*args, **kwargs)

    ast.parse = parse
    try:
        yield
    finally:
        ast.parse = original


def run_engine(contexts: Sequence[SuiteContext]) -> None:
    """Run the engine once for all `contexts` (suites with engine checks) and record into each."""
    routes: dict[str, tuple[SuiteContext, EngineRule]] = {}
    for ctx in contexts:
        for check, engine_rule in SUITES.get(ctx.suite).engine.items():
            routes[check] = (ctx, engine_rule)
    if not routes:
        return
    lead = contexts[0]
    operations, left_out = engine_operations(lead)
    for ctx in contexts:
        for label, reason in left_out.items():
            for rule_id in {r.rule for c, r in routes.values() if c is ctx}:
                ctx.skip(rule_id, label, reason)
        ctx.progress.total(len(operations) * len(PHASES))
    if not operations:
        return
    from contracts.checks.errors import registered

    config = engine_config(lead, list(routes))
    schema: Any
    try:
        schema = lead.target.schemathesis_schema(lead.spec, config)
    except Exception as exc:
        raise EngineError(f"schemathesis could not load the spec: {exc}") from exc
    schema = schema.include(operation_id=[op.operation_id for op in operations])
    documented = {op.label: op for op in operations}
    targets, writable = lead.workbench.engine_targets() if lead.credentials.key else ({}, set())
    lead.guard.aim(targets, writable)
    lead.guard.bind(schema)
    try:
        with registered(), _serialized_ast_parse(lead.options.workers):
            _drive(schema, routes, documented, contexts, lead)
    finally:
        lead.guard.unbind(schema)
        lead.guard.aim({}, set())
        if "worker" in writable:  # give the account's worker slot back for the suites that follow
            lead.workbench.finish_worker(targets["worker"], "failed")


def _drive(
    schema: Any,
    routes: dict[str, tuple[SuiteContext, EngineRule]],
    documented: dict[str, Operation],
    contexts: Sequence[SuiteContext],
    lead: SuiteContext,
) -> None:
    stream = from_schema(schema).execute()
    interrupted = False
    try:
        for event in stream:
            if isinstance(event, events.ScenarioFinished):
                _collect(event.recorder, routes, documented, lead)
                for ctx in contexts:
                    ctx.progress.advance()
            elif isinstance(event, events.NonFatalError):
                text = f"{event.label}: {event.info.title}" + (
                    f" — {event.info.message.splitlines()[0]}" if event.info.message else ""
                )
                for ctx in contexts:
                    ctx.recorder.note(ctx.suite, text[:300])
            elif isinstance(event, events.Interrupted):
                interrupted = True  # the engine caught Ctrl-C itself and finishes; we pass it on
            elif isinstance(event, events.FatalError):
                raise EngineError(f"schemathesis stopped: {event.exception}")
    except KeyboardInterrupt:
        stream.stop()
        raise
    if interrupted:
        raise KeyboardInterrupt


def _collect(
    recorder: ScenarioRecorder,
    routes: dict[str, tuple[SuiteContext, EngineRule]],
    documented: dict[str, Operation],
    lead: SuiteContext,
) -> None:
    lead.target.count(sum(1 for i in recorder.interactions.values() if i.response is not None))
    for case_id, nodes in recorder.checks.items():
        node_case = recorder.cases.get(case_id)
        label = node_case.value.operation.label if node_case is not None else recorder.label
        interaction = recorder.interactions.get(case_id)
        for node in nodes:
            route = routes.get(node.name)
            if route is None:
                continue
            ctx, engine_rule = route
            if node.status == Status.SUCCESS:
                ctx.recorder.passed(ctx.suite, engine_rule.rule, label)
            elif node.status == Status.FAILURE and node.failure_info is not None:
                failure = _convert(
                    node.failure_info.failure, engine_rule, node.failure_info.code_sample, interaction, documented, ctx
                )
                ctx.recorder.failed(ctx.suite, failure)


def _convert(
    failure: Failure,
    engine_rule: EngineRule,
    code_sample: str,
    interaction: Interaction | None,
    documented: dict[str, Operation],
    ctx: SuiteContext,
) -> ContractFailure:
    curl = ctx.secrets.mask(single_line_curl(code_sample))
    if isinstance(failure, ContractFailure):
        failure.request = curl
        return failure
    label = failure.operation or "-"
    response = interaction.response if interaction is not None else None
    received = "no answer"
    if response is not None:
        body = response.content[:200].decode("utf-8", "replace").strip()
        received = f"{response.status_code} {body}".strip()
    detail = " ".join(line.strip() for line in (failure.message or "").splitlines() if line.strip())
    actual = received if engine_rule.failure is ServerError else f"{received} — {failure.title}: {detail}"
    expected = engine_rule.expected
    op = documented.get(label)
    if op is not None and "{documented}" in expected:
        expected = expected.format(documented=", ".join(sorted(op.responses)))
    return engine_rule.failure(
        rule=engine_rule.rule,
        operation=label,
        expected=expected,
        actual=ctx.secrets.mask(actual[:600]),
        request=curl,
    )


def single_line_curl(code_sample: str) -> str:
    """schemathesis' multi-line code sample as one of our curl lines (bodies shortened, secrets masked later)."""
    lines = [line.strip().rstrip("\\").strip() for line in code_sample.splitlines()]
    text = " ".join(line for line in lines if line and not line.startswith("#"))
    try:
        tokens = shlex.split(text)
    except ValueError:
        return text[:1000]
    method, url, headers, body = "GET", "", {}, None
    it = iter(tokens[1:] if tokens and tokens[0] == "curl" else tokens)
    for token in it:
        if token == "-X":
            method = next(it, method)
        elif token == "-H":
            name, _, value = next(it, "").partition(":")
            headers[name.strip()] = value.strip()
        elif token in ("-d", "--data", "--data-raw", "--data-binary"):
            body = next(it, None)
        elif not token.startswith("-"):
            url = token
    return to_curl(method, url, headers, body)
