"""Regression tests of the domain bugs the hardening work found and fixed (docs/hardening.md, "Bugs").

D1: a mock resumed from its `--state-file` restarted its seeded ids from the seed, so the first create after a
restart drew the id (and the API key) already handed out before the restart: `AssertionError: tasks … already
exists` (a 500), and a key could be issued twice.
"""

from __future__ import annotations

from pathlib import Path

from mockserver.domain.areas.accounts import Accounts
from mockserver.domain.areas.tasks import Tasks
from mockserver.domain.auth import authenticate, hash_key
from mockserver.domain.events import Outbox
from mockserver.domain.runtime import Clock, Ids
from mockserver.domain.service import Buildd
from mockserver.domain.store import Store

from .conftest import EPOCH, SESSIONS, WEB, build_world, key_for


def _start(path: Path) -> Buildd:
    """What `buildd-api serve --state-file PATH` does at startup: the same seed every time."""
    return Buildd(Store(build_world(), state_file=path), Clock(frozen_at=EPOCH), Ids(5), Outbox())


def test_d1_a_resumed_state_file_never_hands_out_an_id_or_a_key_twice(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    ids: set[str] = set()
    keys: set[str] = set()
    for life in range(3):
        api = _start(path)
        svc = authenticate(api.store, authorization=f"Bearer {key_for('svc')}", session_token=None, accept={"apiKey"})
        ada = authenticate(api.store, authorization=None, session_token=SESSIONS["ada"], accept={"session"})
        task = api.area(Tasks).create_task(svc, {"title": f"life {life}", "workspaceId": WEB})
        account = api.area(Accounts).create_account(ada, {"name": f"runner {life}", "type": "service"})
        regenerated = api.area(Accounts).regenerate_account_key(ada, account["id"])["apiKey"]
        for value in (task["id"], account["id"]):
            assert value not in ids, f"life {life} reused id {value}"
            ids.add(value)
        for key in (account["apiKey"], regenerated):
            assert key not in keys, f"life {life} issued a key twice"
            keys.add(key)
        api.store.close()

    final = Store(None, state_file=path)
    assert {f"life {n}" for n in range(3)} <= {t["title"] for t in final.rows("tasks")}
    # every key still works exactly as issued: the last regenerated key of each account, never the first one
    creds = {c["apiKeyHash"] for c in final.rows("credentials")}
    assert len(keys & {k for k in keys if hash_key(k) in creds}) == 3
    final.close()


def test_d1_a_fresh_state_file_keeps_the_seeded_ids(tmp_path: Path) -> None:
    """The fix must not touch determinism: a new file (or no file) starts from the seed, as before."""

    def first_task_id(state_file: Path | None) -> str:
        api = Buildd(Store(build_world(), state_file=state_file), Clock(frozen_at=EPOCH), Ids(5), Outbox())
        svc = authenticate(api.store, authorization=f"Bearer {key_for('svc')}", session_token=None, accept={"apiKey"})
        task_id = str(api.area(Tasks).create_task(svc, {"title": "x", "workspaceId": WEB})["id"])
        api.store.close()
        return task_id

    assert first_task_id(None) == first_task_id(tmp_path / "a.sqlite") == first_task_id(tmp_path / "b.sqlite")
