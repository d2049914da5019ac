"""Suite `memory`: what an agent saves to its workspace's memory it recalls by a word of it, until it deletes it.

    POST /api/workspaces/{id}/memory (a title with a unique word)
    -> GET ?search=<word> lists it -> DELETE it -> GET ?search=<word> no longer does

Runs in `--workspace` (else the key's first workspace), deletes what it saved, skipped under --read-only. A server
without its memory service (`503`/`502`) is skipped with the reason.
"""

from __future__ import annotations

import uuid
from typing import Any

from contracts.context import Skip, SuiteContext
from contracts.failures import LifecycleRuleBroken, ServerError
from contracts.registry import Subject, rule, suite
from contracts.target import Exchange
from contracts.workbench import WorkbenchError

SUITE = "memory"
SAVE, SEARCH, DELETE = (
    "POST /api/workspaces/{id}/memory",
    "GET /api/workspaces/{id}/memory",
    "DELETE /api/workspaces/{id}/memory/{memoryId}",
)


class Recall:
    """The workspace, the saved memory and the word that should find it."""

    def __init__(self, ctx: SuiteContext) -> None:
        self.ctx = ctx
        self.word = f"contract{uuid.uuid4().hex[:12]}"
        self.workspace: str | None = None
        self.memory_id: str | None = None
        self.blocked: str | None = None

    def search(self) -> tuple[list[str], Exchange]:
        exchange = self.ctx.send("GET", f"/api/workspaces/{self.workspace}/memory", params={"search": self.word})
        body = exchange.json() if exchange.status == 200 else None
        memories = body.get("memories") if isinstance(body, dict) else None
        ids = [str(m.get("id")) for m in memories if isinstance(m, dict)] if isinstance(memories, list) else []
        return ids, exchange


def _unavailable(exchange: Exchange) -> None:
    if exchange.status in (502, 503):
        raise Skip(f"the memory service is not available ({exchange.status}); nothing to check")


@rule(
    "memory.recall",
    suite=SUITE,
    title="A saved memory is found by a word of its title",
    failure=LifecycleRuleBroken,
)
def recall(ctx: SuiteContext, subject: Subject) -> None:
    flow: Recall = subject.state
    try:
        flow.workspace = ctx.workbench.workspace_id()
    except WorkbenchError as exc:
        flow.blocked = str(exc)
        raise Skip(flow.blocked) from None
    body = {"type": "discovery", "title": f"Contract check {flow.word}", "content": "Saved by buildd-api check."}
    saved = ctx.send("POST", f"/api/workspaces/{flow.workspace}/memory", json=body)
    _unavailable(saved)
    memory = (saved.json() or {}).get("memory") if saved.status in (200, 201) else None
    if not isinstance(memory, dict) or not memory.get("id"):
        flow.blocked = "saving a memory failed"
        failure = ServerError if saved.status == 0 or saved.status >= 500 else LifecycleRuleBroken
        ctx.fail(failure, "memory.recall", SAVE, expected="201 with the saved memory", exchange=saved)
    flow.memory_id = str(memory["id"])
    ids, exchange = flow.search()
    if flow.memory_id not in ids:
        ctx.fail(
            LifecycleRuleBroken,
            "memory.recall",
            SEARCH,
            expected=f"the memory just saved ({flow.memory_id}) among the results for a word of its title",
            exchange=exchange,
            actual=f"{len(ids)} result(s) without it: {exchange.describe(200)}",
        )


@rule(
    "memory.forget",
    suite=SUITE,
    title="A deleted memory is no longer found",
    failure=LifecycleRuleBroken,
)
def forget(ctx: SuiteContext, subject: Subject) -> None:
    flow: Recall = subject.state
    if flow.blocked or flow.memory_id is None:
        raise Skip(flow.blocked or "no memory from the previous step")
    deleted = ctx.send("DELETE", f"/api/workspaces/{flow.workspace}/memory/{flow.memory_id}")
    _unavailable(deleted)
    if deleted.status != 200:
        failure = ServerError if deleted.status == 0 or deleted.status >= 500 else LifecycleRuleBroken
        ctx.fail(failure, "memory.forget", DELETE, expected="200 {success: true}", exchange=deleted)
    ids, exchange = flow.search()
    if flow.memory_id in ids:
        ctx.fail(
            LifecycleRuleBroken,
            "memory.forget",
            DELETE,
            expected="the deleted memory no longer among the results",
            exchange=exchange,
            actual=f"still listed after DELETE answered {deleted.status}: {exchange.describe(200)}",
        )


STEPS: tuple[tuple[str, str, Any], ...] = (("memory.recall", SEARCH, recall), ("memory.forget", DELETE, forget))


@suite("memory", title="Workspace memory recalls what was saved", order=55, needs=("key",), mutates=True)
def run_memory(ctx: SuiteContext) -> None:
    """save -> search finds it -> delete -> search does not."""
    ctx.progress.total(len(STEPS))
    if ctx.options.read_only:
        for rule_id, op, _ in STEPS:
            ctx.skip(rule_id, op, "the memory suite writes; skipped under --read-only")
        ctx.progress.advance(len(STEPS))
        return
    flow = Recall(ctx)
    for rule_id, op, check in STEPS:
        with ctx.checking(rule_id, op):
            check(ctx, Subject(op, state=flow))
        ctx.progress.advance()
