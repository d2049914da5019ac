"""The concurrency scenario, shared by tests/hardening/test_concurrency.py and bench/soak_concurrency.py.

`run_load` starts N clients (one `httpx.AsyncClient`, one connection each) that mix, for a bounded number of
requests each, claims (`maxTasks` 1-3, several worker keys competing for their accounts' slots), worker PATCHes
(running -> progress -> completed, or failed), task creates and reads. Every request and answer is recorded.

`check_consistency(before, after, result)` then compares the mock's state (`GET /__mock/state`) with what the
clients were told, and returns every problem it finds (an empty list is the verdict "consistent"):

- no task was handed out by two claims, no worker id twice;
- no lost update: each worker's final status and progress are those of its last acknowledged PATCH, and its task
  followed it (running -> in_progress, completed -> completed/review, failed -> failed);
- every assigned/in_progress task has exactly one live worker, of the account that claimed it;
- no account has more live workers than its maxConcurrentWorkers;
- counts add up: tasks = before + acknowledged creates, workers = before + claimed, each account's totalTasks
  grew by its claims;
- no 5xx and no transport error anywhere, and each answer is one its operation may give under this load.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ("LoadConfig", "LoadResult", "check_consistency", "invariant_problems", "run_load")

LIVE = frozenset({"idle", "starting", "running", "waiting_input"})
# what each operation may answer under this load (429: the account's slots are all taken)
EXPECTED: Mapping[str, frozenset[int]] = {
    "claim": frozenset({200, 429}),
    "patch": frozenset({200}),
    "create": frozenset({200}),
    "read": frozenset({200}),
}
DEFAULT_WORKERS = ("acme-admin", "acme-ci", "acme-laptop", "acme-actions", "globex-admin", "globex-ci", "globex-laptop")


@dataclass(frozen=True)
class LoadConfig:
    clients: int = 100
    requests_per_client: int = 20
    worker_accounts: tuple[str, ...] = DEFAULT_WORKERS
    creators: tuple[str, ...] = ("acme-admin", "globex-admin")  # admin keys that create tasks, one per team
    fail_share: float = 0.25  # share of claimed workers that end `failed` instead of `completed`
    seed: int = 1
    request_timeout: float = 30.0
    deadline: float = 120.0  # the whole run, seconds


@dataclass
class Held:
    """A worker this client claimed, and where it is in its lifecycle."""

    worker_id: str
    task_id: str
    plan: list[dict[str, Any]]  # the PATCH bodies still to send


@dataclass
class LoadResult:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    claims: list[tuple[str, str, str]] = field(default_factory=list)  # (account, worker id, task id)
    acked_patch: dict[str, dict[str, Any]] = field(default_factory=dict)  # worker id -> last acknowledged body
    created: list[str] = field(default_factory=list)
    requests: int = 0
    elapsed: float = 0.0

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def summary(self) -> dict[str, Any]:
        def pct(values: list[float], p: float) -> float:
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else 0.0

        every = [v for values in self.latencies.values() for v in values]
        return {
            "requests": self.requests,
            "elapsed_s": round(self.elapsed, 2),
            "throughput_rps": round(self.throughput, 1),
            "p50_ms": pct(every, 0.50),
            "p99_ms": pct(every, 0.99),
            "by_op": {f"{op} {status}": n for (op, status), n in sorted(self.statuses.items())},
            "latency_ms_by_op": {
                op: {"p50": pct(v, 0.50), "p99": pct(v, 0.99), "max": pct(v, 1.0)}
                for op, v in sorted(self.latencies.items())
            },
            "claimed_workers": len(self.claims),
            "created_tasks": len(self.created),
            "patched_workers": len(self.acked_patch),
            "server_errors": len(self.server_errors),
            "unexpected_statuses": len(self.unexpected),
            "transport_errors": len(self.transport_errors),
        }


def _lifecycle(rng: random.Random, fail_share: float) -> list[dict[str, Any]]:
    """running (10) -> progress (60) -> completed (100, with a PR so any outputRequirement is met) | failed."""
    steps: list[dict[str, Any]] = [
        {"status": "running", "progress": 10, "currentAction": "cloning"},
        {
            "progress": 60,
            "currentAction": "testing",
            "appendMilestones": [{"type": "status", "label": "tests pass", "ts": 1768467630000}],
        },
    ]
    if rng.random() < fail_share:
        steps.append({"status": "failed", "progress": 60, "error": "hardening: simulated failure"})
    else:
        steps.append(
            {
                "status": "completed",
                "progress": 100,
                "summary": "done",
                "prUrl": "https://github.com/example/repo/pull/1",
                "prNumber": 1,
            }
        )
    return steps


async def run_load(
    base_url: str, keys: Mapping[str, str], creator_workspaces: Mapping[str, str], config: LoadConfig
) -> LoadResult:
    """Drive the load; `creator_workspaces` maps each creator account name to the workspace it creates in."""
    result = LoadResult()
    known_tasks: dict[str, list[str]] = defaultdict(list)  # creator -> tasks it created (it may read them)

    async def call(
        http: httpx.AsyncClient, op: str, method: str, url: str, auth: Mapping[str, str], body: Any = None
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await http.request(method, url, json=body, headers=auth)
        except httpx.HTTPError as exc:
            result.transport_errors.append(f"{op} {method} {url}: {type(exc).__name__}: {exc}")
            return None
        finally:
            result.requests += 1
        result.latencies[op].append(time.perf_counter() - started)
        result.statuses[(op, response.status_code)] += 1
        if response.status_code >= 500:
            result.server_errors.append(f"{op} {method} {url} -> {response.status_code} {response.text[:300]}")
        elif response.status_code not in EXPECTED[op]:
            result.unexpected.append(f"{op} {method} {url} {body!r} -> {response.status_code} {response.text[:300]}")
        return response

    async def client(index: int) -> None:
        rng = random.Random(config.seed * 1_000_003 + index)
        account = config.worker_accounts[index % len(config.worker_accounts)]
        creator = config.creators[index % len(config.creators)]
        worker_auth = {"Authorization": f"Bearer {keys[account]}"}
        creator_auth = {"Authorization": f"Bearer {keys[creator]}"}
        held: list[Held] = []
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base_url, timeout=config.request_timeout, limits=limits) as http:
            for _ in range(config.requests_per_client):
                roll = rng.random()
                if held and roll < 0.65:  # drive the oldest claimed worker one step
                    current = held[0]
                    body = current.plan.pop(0)
                    response = await call(
                        http, "patch", "PATCH", f"/api/workers/{current.worker_id}", worker_auth, body
                    )
                    if response is not None and response.status_code == 200:
                        previous = result.acked_patch.get(current.worker_id, {})
                        result.acked_patch[current.worker_id] = {**previous, **body}
                    if not current.plan or response is None or response.status_code != 200:
                        held.pop(0)
                elif roll < 0.80:
                    body = {"runner": f"hardening-{index}", "maxTasks": rng.randint(1, 3)}
                    response = await call(http, "claim", "POST", "/api/workers/claim", worker_auth, body)
                    if response is not None and response.status_code == 200:
                        for worker in response.json()["workers"]:
                            result.claims.append((account, worker["id"], worker["taskId"]))
                            held.append(Held(worker["id"], worker["taskId"], _lifecycle(rng, config.fail_share)))
                elif roll < 0.90:
                    body = {
                        "title": f"hardening load {index}-{rng.randrange(10**6)}",
                        "workspaceId": creator_workspaces[creator],
                        "priority": rng.randint(-5, 50),
                    }
                    response = await call(http, "create", "POST", "/api/tasks", creator_auth, body)
                    if response is not None and response.status_code == 200:
                        result.created.append(response.json()["id"])
                        known_tasks[creator].append(response.json()["id"])
                else:
                    kind = rng.random()
                    if kind < 0.4:
                        await call(http, "read", "GET", "/api/tasks?status=pending&limit=20", worker_auth)
                    elif kind < 0.7 and known_tasks[creator]:
                        task_id = rng.choice(known_tasks[creator][-50:])
                        await call(http, "read", "GET", f"/api/tasks/{task_id}", creator_auth)
                    else:
                        await call(http, "read", "GET", "/api/workers/mine", worker_auth)

    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(config.clients))), config.deadline)
    finally:
        result.elapsed = time.perf_counter() - started
    return result


# -- verdict --------------------------------------------------------------------------------------------------------


def invariant_problems(state: Mapping[str, Any]) -> list[str]:
    """What is wrong with one state on its own: claims without exactly one live worker of the claimer, accounts
    over their live-worker limit."""
    problems: list[str] = []
    live_by_task: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    live_by_account: Counter[str] = Counter()
    for worker in state["workers"]:
        if worker["status"] in LIVE:
            live_by_task[str(worker["taskId"])].append(worker)
            live_by_account[str(worker["accountId"])] += 1
    for task in state["tasks"]:
        if task["status"] in ("assigned", "in_progress"):
            live = live_by_task.get(str(task["id"]), [])
            owners = {str(w["accountId"]) for w in live}
            if len(live) != 1 or owners != {str(task.get("claimedBy"))}:
                problems.append(
                    f"task {task['id']} ({task['status']}, claimedBy {task.get('claimedBy')}) has "
                    f"{len(live)} live worker(s) of {sorted(owners)}"
                )
    for account in state["accounts"]:
        limit = int(account.get("maxConcurrentWorkers") or 3)
        if live_by_account[str(account["id"])] > limit:
            problems.append(
                f"account {account['name']} has {live_by_account[str(account['id'])]} live workers (max {limit})"
            )
    return problems


def check_consistency(
    before: Mapping[str, Any], after: Mapping[str, Any], result: LoadResult, account_ids: Mapping[str, str]
) -> list[str]:
    problems: list[str] = []
    problems += [f"5xx: {e}" for e in result.server_errors[:20]]
    problems += [f"unexpected answer: {e}" for e in result.unexpected[:20]]
    problems += [f"transport error: {e}" for e in result.transport_errors[:20]]

    task_claims = Counter(task for _, _, task in result.claims)
    problems += [f"task {t} was claimed {n} times" for t, n in task_claims.items() if n > 1]
    worker_ids = Counter(worker for _, worker, _ in result.claims)
    problems += [f"worker id {w} was handed out {n} times" for w, n in worker_ids.items() if n > 1]

    tasks = {str(t["id"]): t for t in after["tasks"]}
    workers = {str(w["id"]): w for w in after["workers"]}
    for account, worker_id, task_id in result.claims:
        worker, task = workers.get(worker_id), tasks.get(task_id)
        if worker is None or task is None:
            problems.append(f"claimed worker {worker_id} / task {task_id} missing from the state")
            continue
        if worker["accountId"] != account_ids[account] or worker["taskId"] != task_id:
            problems.append(
                f"worker {worker_id} belongs to {worker['accountId']}/{worker['taskId']}, "
                f"claimed by {account} for {task_id}"
            )
        if task.get("claimedBy") != account_ids[account]:
            problems.append(f"task {task_id} claimedBy {task.get('claimedBy')}, but {account} claimed it")
        acked = result.acked_patch.get(worker_id)
        if acked is None:
            expected_status, expected_task = "idle", {"assigned"}
        else:
            expected_status = acked.get("status", "running")
            expected_task = {"running": {"in_progress"}, "completed": {"completed", "review"}, "failed": {"failed"}}[
                expected_status
            ]
        if worker["status"] != expected_status:
            problems.append(
                f"lost update: worker {worker_id} is {worker['status']}, last acknowledged {expected_status}"
            )
        if acked is not None and worker.get("progress") != acked.get("progress"):
            problems.append(
                f"lost update: worker {worker_id} progress {worker.get('progress')}, last acknowledged "
                f"{acked.get('progress')}"
            )
        if task["status"] not in expected_task:
            problems.append(
                f"task {task_id} is {task['status']}, its worker's last acknowledged status is "
                f"{expected_status} (expected {sorted(expected_task)})"
            )

    problems += invariant_problems(after)

    if len(after["tasks"]) != len(before["tasks"]) + len(result.created):
        problems.append(f"tasks: {len(after['tasks'])} != {len(before['tasks'])} + {len(result.created)} created")
    missing = [t for t in result.created if t not in tasks]
    problems += [f"created task {t} is missing" for t in missing[:20]]
    if len(after["workers"]) != len(before["workers"]) + len(result.claims):
        problems.append(f"workers: {len(after['workers'])} != {len(before['workers'])} + {len(result.claims)} claimed")
    claims_by_account = Counter(account_ids[account] for account, _, _ in result.claims)
    totals_before = {str(a["id"]): int(a.get("totalTasks") or 0) for a in before["accounts"]}
    for account in after["accounts"]:
        grown = int(account.get("totalTasks") or 0) - totals_before.get(str(account["id"]), 0)
        if grown != claims_by_account.get(str(account["id"]), 0):
            problems.append(
                f"account {account['name']} totalTasks grew by {grown}, "
                f"but it claimed {claims_by_account.get(str(account['id']), 0)}"
            )
    return problems
