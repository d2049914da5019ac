"""`buildd-api serve --state-file`: every acknowledged write survives `kill -9`, and the file holds no key.

One state file, several lives of the server. In each life a writer thread streams writes (create task, claim it,
PATCH its worker running then completed; now and then create an account and regenerate its key) and journals
every acknowledged (2xx) answer; the server is killed with SIGKILL in the middle of the stream, restarted on the
same file, and everything the journal holds must be there. The one request in flight when the server died may
or may not have been applied: the check allows both outcomes for the entity it touched, and only for that one.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hardening._proc import MockProcess

pytestmark = pytest.mark.http

KEY_SHAPE = re.compile(rb"bld_[0-9a-f]+")
PREFIX_LENGTH = 12  # apiKeyPrefix: "bld_" + 8 hex


@dataclass
class Journal:
    """What the server acknowledged, across all lives."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {title, priority}
    claims: dict[str, str] = field(default_factory=dict)  # task id -> worker id
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)  # worker id -> {status, progress}
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # account id -> {name, key}
    retired_keys: list[str] = field(default_factory=list)  # keys replaced by an acknowledged regenerate
    inflight: tuple[str, str | None, dict[str, Any]] | None = None  # (kind, entity id, outcome if applied)
    acked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Writer(threading.Thread):
    """Streams writes at one server until it dies, `stop` is set, or `max_iterations` is reached."""

    def __init__(
        self,
        base_url: str,
        journal: Journal,
        admin_key: str,
        session: str,
        workspace_id: str,
        life: int,
        max_iterations: int = 400,
    ) -> None:
        super().__init__(name=f"writer-{life}", daemon=True)
        self.base_url, self.journal, self.life = base_url, journal, life
        self.key_auth = {"Authorization": f"Bearer {admin_key}"}
        self.session_auth = {"Cookie": f"authjs.session-token={session}"}
        self.workspace_id = workspace_id
        self.max_iterations = max_iterations
        self.stop = threading.Event()
        self.failure: str | None = None

    def _send(
        self,
        http: httpx.Client,
        inflight: tuple[str, str | None, dict[str, Any]],
        method: str,
        url: str,
        body: dict[str, Any] | None,
        *,
        session: bool = False,
    ) -> dict[str, Any] | None:
        """One request; its answer if acknowledged, None when the server is gone (the thread then ends)."""
        self.journal.inflight = inflight
        try:
            response = http.request(method, url, json=body, headers=self.session_auth if session else self.key_auth)
        except httpx.HTTPError:
            self.stop.set()
            return None
        if not 200 <= response.status_code < 300:
            self.failure = f"{method} {url} {body} -> {response.status_code} {response.text[:300]}"
            self.stop.set()
            return None
        return response.json()

    def _ack(self, apply: Callable[[Journal], None]) -> None:
        with self.journal.lock:
            apply(self.journal)
            self.journal.inflight = None
            self.journal.acked += 1

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as http:
            for i in range(self.max_iterations):
                if self.stop.is_set() or not self._iteration(http, i):
                    return

    def _iteration(self, http: httpx.Client, i: int) -> bool:
        title, priority = f"crash life {self.life} #{i}", (self.life * 31 + i) % 100
        task = self._send(
            http,
            ("task", None, {}),
            "POST",
            "/api/tasks",
            {"title": title, "workspaceId": self.workspace_id, "priority": priority},
        )
        if task is None:
            return False
        self._ack(lambda j: j.tasks.__setitem__(task["id"], {"title": title, "priority": priority}))

        claimed = self._send(
            http,
            ("claim", task["id"], {}),
            "POST",
            "/api/workers/claim",
            {"runner": "crash-safety", "taskId": task["id"], "maxTasks": 1},
        )
        if claimed is None:
            return False
        if [w["taskId"] for w in claimed["workers"]] != [task["id"]]:
            self.failure = f"the claim of {task['id']} got {claimed}"
            return False
        worker_id = claimed["workers"][0]["id"]

        def record_claim(j: Journal) -> None:
            j.claims[task["id"]] = worker_id
            j.workers[worker_id] = {"status": "idle"}

        self._ack(record_claim)
        for body in (
            {"status": "running", "progress": 40},
            {
                "status": "completed",
                "progress": 100,
                "summary": "done",
                "prUrl": "https://github.com/acme/web/pull/7",
                "prNumber": 7,
            },
        ):
            outcome = {"status": body["status"], "progress": body["progress"]}
            if self._send(http, ("worker", worker_id, outcome), "PATCH", f"/api/workers/{worker_id}", body) is None:
                return False
            self._ack(lambda j, o=outcome: j.workers.__setitem__(worker_id, o))

        if i % 3 == 0:  # an account and a regenerated key: the file must never see either key
            name = f"crash runner {self.life}-{i}"
            account = self._send(
                http, ("account", None, {}), "POST", "/api/accounts", {"name": name, "type": "service"}, session=True
            )
            if account is None:
                return False
            self._ack(lambda j: j.accounts.__setitem__(account["id"], {"name": name, "key": account["apiKey"]}))
            fresh = self._send(
                http,
                ("regenerate", account["id"], {}),
                "POST",
                f"/api/accounts/{account['id']}/regenerate-key",
                None,
                session=True,
            )
            if fresh is None:
                return False

            def record_key(j: Journal) -> None:
                j.retired_keys.append(j.accounts[account["id"]]["key"])
                j.accounts[account["id"]]["key"] = fresh["apiKey"]

            self._ack(record_key)
        return True


# -- checks ---------------------------------------------------------------------------------------------------------


def _state(base_url: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/__mock/state", timeout=30)
    assert response.status_code == 200
    return response.json()


def verify(base_url: str, journal: Journal, admin_id: str) -> list[str]:
    """Everything acknowledged is in the resumed state (the in-flight request may or may not have landed)."""
    state = _state(base_url)
    problems: list[str] = []
    tasks = {t["id"]: t for t in state["tasks"]}
    workers = {w["id"]: w for w in state["workers"]}
    accounts = {a["id"]: a for a in state["accounts"]}
    kind, target, outcome = journal.inflight or ("", None, {})

    for task_id, acked in journal.tasks.items():
        task = tasks.get(task_id)
        if task is None or task["title"] != acked["title"] or task["priority"] != acked["priority"]:
            problems.append(f"acknowledged task {task_id} {acked} is {'missing' if task is None else 'changed'}")
    for task_id, worker_id in journal.claims.items():
        task, worker = tasks.get(task_id), workers.get(worker_id)
        if task is None or worker is None:
            problems.append(f"acknowledged claim of {task_id} by worker {worker_id} is missing")
            continue
        if task.get("claimedBy") != admin_id or worker["taskId"] != task_id or worker["accountId"] != admin_id:
            problems.append(
                f"acknowledged claim of {task_id}: claimedBy {task.get('claimedBy')}, "
                f"worker {worker['accountId']}/{worker['taskId']}"
            )
    task_of = {w: t for t, w in journal.claims.items()}
    follows = {"idle": "assigned", "running": "in_progress", "completed": "completed"}
    for worker_id, acked in journal.workers.items():
        allowed = [acked] + ([outcome] if kind == "worker" and target == worker_id else [])
        worker = workers.get(worker_id)
        seen = {"status": worker["status"], "progress": worker.get("progress")} if worker else None
        if seen is None or not any(
            seen["status"] == a["status"] and a.get("progress") in (None, seen["progress"]) for a in allowed
        ):
            problems.append(f"worker {worker_id}: acknowledged {acked}, found {seen}")
            continue
        task = tasks[task_of[worker_id]]
        if task["status"] != follows[seen["status"]]:
            problems.append(f"task {task['id']} is {task['status']}, its worker is {seen['status']}")
    for account_id, acked in journal.accounts.items():
        account = accounts.get(account_id)
        regenerating = kind == "regenerate" and target == account_id
        if account is None or account["name"] != acked["name"]:
            problems.append(f"acknowledged account {account_id} {acked['name']} is missing")
            continue
        if not regenerating and acked["key"] is not None:
            me = httpx.get(f"{base_url}/api/accounts/me", headers={"Authorization": f"Bearer {acked['key']}"})
            if me.status_code != 200 or me.json()["id"] != account_id:
                problems.append(f"the acknowledged key of {acked['name']} answers {me.status_code}")
            if account["apiKeyPrefix"] != acked["key"][:PREFIX_LENGTH]:
                problems.append(f"{acked['name']}: apiKeyPrefix {account['apiKeyPrefix']} is not its key's")
    for old in journal.retired_keys:
        if httpx.get(f"{base_url}/api/accounts/me", headers={"Authorization": f"Bearer {old}"}).status_code != 401:
            problems.append("a key replaced by an acknowledged regenerate still works after the restart")
    return problems


def settle(base_url: str, journal: Journal) -> None:
    """Once a restart is verified, adopt the outcome of the request that was in flight if it landed, so the
    next life's checks start from what the server really holds."""
    if journal.inflight is None:
        return
    kind, target, outcome = journal.inflight
    journal.inflight = None
    state = _state(base_url)
    if kind == "worker":
        worker = next(w for w in state["workers"] if w["id"] == target)
        if worker["status"] == outcome["status"]:
            journal.workers[str(target)] = outcome
    elif kind == "regenerate":
        key = journal.accounts[str(target)]["key"]
        if httpx.get(f"{base_url}/api/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401:
            journal.retired_keys.append(key)  # it landed: the new key was never seen, the old one must stay dead
            journal.accounts[str(target)]["key"] = None


def finish_dangling_workers(base_url: str, journal: Journal, admin_key: str) -> None:
    """Complete the writer's workers a kill left live (incl. an unacknowledged claim), so acme-admin keeps
    free slots for the next life: a worker claimed before the crash must be drivable after it."""
    state = _state(base_url)
    ours = {t["id"] for t in state["tasks"] if t["title"].startswith("crash life ")}
    for worker in state["workers"]:
        if worker["taskId"] in ours and worker["status"] in ("idle", "starting", "running"):
            body = {"status": "completed", "progress": 100, "prUrl": "https://github.com/acme/web/pull/7"}
            response = httpx.patch(
                f"{base_url}/api/workers/{worker['id']}", json=body, headers={"Authorization": f"Bearer {admin_key}"}
            )
            assert response.status_code == 200, response.text
            if worker["id"] in journal.workers:
                journal.workers[worker["id"]] = {"status": "completed", "progress": 100}


def grep_keys(paths: list[Path]) -> tuple[list[bytes], bytes]:
    data = b"".join(p.read_bytes() for p in paths if p.exists())
    return KEY_SHAPE.findall(data), data


# -- tests ----------------------------------------------------------------------------------------------------------


def test_acknowledged_writes_survive_kill_9_and_the_file_holds_no_key(
    mock_process: Callable[..., MockProcess],
    tmp_path: Path,
    fixture_keys: dict[str, str],
    fixture_sessions: dict[str, str],
    world_ids: dict[str, str],
) -> None:
    state_file = tmp_path / "state.sqlite"
    admin_key, admin_id = fixture_keys["acme-admin"], world_ids["acme-admin"]
    session = fixture_sessions["ada@acme.example"]
    journal = Journal()
    server = mock_process("--state-file", str(state_file))
    kill_after = (6, 17, 29)  # acknowledged writes in each life before the kill -9
    in_flight_at_kill: list[Any] = []

    for life, threshold in enumerate(kill_after, 1):
        server.start()
        assert verify(server.base_url, journal, admin_id) == [], f"after restart {life - 1}"
        in_flight_at_kill.append(journal.inflight)
        settle(server.base_url, journal)
        finish_dangling_workers(server.base_url, journal, admin_key)
        start = journal.acked
        writer = Writer(server.base_url, journal, admin_key, session, world_ids["acme-web"], life)
        writer.start()
        deadline = time.monotonic() + 30
        while journal.acked - start < threshold and writer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.002)
        assert writer.failure is None, writer.failure
        assert journal.acked - start >= threshold, f"life {life}: only {journal.acked - start} writes in 30 s"
        server.kill()  # kill -9, the writer mid-stream
        writer.join(timeout=15)
        assert not writer.is_alive() and writer.failure is None, writer.failure

    # a life without a kill: a normal stop and restart keeps the state too
    server.start()
    assert verify(server.base_url, journal, admin_id) == [], f"after restart {len(kill_after)}"
    in_flight_at_kill.append(journal.inflight)
    assert sum(x is not None for x in in_flight_at_kill[1:]) >= 2, f"the kills missed the requests: {in_flight_at_kill}"
    settle(server.base_url, journal)
    finish_dangling_workers(server.base_url, journal, admin_key)
    writer = Writer(server.base_url, journal, admin_key, session, world_ids["acme-web"], 99, max_iterations=4)
    writer.start()
    writer.join(timeout=30)
    assert writer.failure is None and not writer.is_alive(), writer.failure
    assert journal.inflight is None
    server.stop()
    server.start()
    problems = verify(server.base_url, journal, admin_id)
    assert problems == [], problems
    assert len(journal.tasks) >= sum(kill_after) // 6 and journal.accounts and journal.retired_keys
    server.stop()

    # the file (and its WAL) hold key prefixes at most, never a key
    files = [state_file, state_file.with_name(state_file.name + "-wal"), state_file.with_name(state_file.name + "-shm")]
    found, data = grep_keys(files)
    assert found, "expected the apiKeyPrefix values in the file"
    assert max(len(match) for match in found) <= PREFIX_LENGTH, sorted({m for m in found if len(m) > PREFIX_LENGTH})
    issued = [*fixture_keys.values(), *(a["key"] for a in journal.accounts.values() if a["key"]), *journal.retired_keys]
    assert not [k for k in issued if k[4:].encode() in data], "a key's 64 hex digits are in the state file"


def test_the_clock_does_not_run_backwards_across_a_restart(
    mock_process: Callable[..., MockProcess], tmp_path: Path, fixture_keys: dict[str, str], world_ids: dict[str, str]
) -> None:
    auth = {"Authorization": f"Bearer {fixture_keys['acme-admin']}"}
    body = {"title": "clock", "workspaceId": world_ids["acme-web"]}
    server = mock_process("--state-file", str(tmp_path / "clock.sqlite"))
    server.start()
    assert httpx.post(f"{server.base_url}/__mock/clock", json={"advanceSeconds": 3600}).status_code == 200
    before = httpx.post(f"{server.base_url}/api/tasks", json=body, headers=auth).json()["createdAt"]
    server.stop()
    server.start()
    after = httpx.post(f"{server.base_url}/api/tasks", json=body, headers=auth).json()["createdAt"]
    server.stop()
    assert after >= before, f"a task created after the restart is older ({after}) than one created before ({before})"
