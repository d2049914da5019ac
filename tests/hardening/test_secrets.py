"""API keys never leave the mock except where the contract shows them once (create, regenerate, device token)
or where they are public fixture credentials on purpose (`GET /__mock/keys`).

Over a `buildd-api serve` subprocess (so its real log output is captured): fixture keys, a freshly created
account's key and a regenerated key are used in good and failing requests (wrong-but-similar keys, a key in the
query string, a request that crashes the mock with a key in its headers), then none of them may appear in the
server's output, in account lists and details, in error bodies, in `/__mock/requests`, `/__mock/state` or
`/__mock/events`. In-process: authentication looks keys up by SHA-256 and compares digests with
`hmac.compare_digest`, and the store keeps hashes only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.hardening._proc import MockProcess


def _similar(key: str) -> list[str]:
    """Keys one character away from `key`, and the key with a different case or a suffix."""
    last = "0" if key[-1] != "0" else "1"
    first = "0" if key[4] != "0" else "1"
    return [key[:-1] + last, key[:4] + first + key[5:], key.upper().replace("BLD_", "bld_"), key + "0", key[:-1]]


def _leaks(text: str, keys: list[str]) -> list[str]:
    """The keys (by their first 12 characters) whose 64 hex digits appear in `text`."""
    return [k[:12] + "…" for k in keys if k[4:] in text]


@pytest.mark.http
def test_keys_never_leak_into_logs_lists_errors_or_the_control_api(
    mock_process: Callable[..., MockProcess], fixture_keys: dict[str, str], fixture_sessions: dict[str, str]
) -> None:
    server = mock_process("--strict").start()
    base = server.base_url
    session = {"Cookie": f"authjs.session-token={fixture_sessions['ada@acme.example']}"}
    keys = list(fixture_keys.values())
    bodies: list[str] = []

    with httpx.Client(base_url=base, timeout=15) as http:

        def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
            response = http.request(method, url, **kwargs)
            assert response.status_code < 500 or "content" in kwargs, (
                f"{method} {url} -> {response.status_code} {response.text[:200]}"
            )
            bodies.append(response.text)
            return response

        created = call("POST", "/api/accounts", json={"name": "secret-test", "type": "service"}, headers=session)
        assert created.status_code == 200
        account_id, created_key = created.json()["id"], created.json()["apiKey"]
        regenerated = call("POST", f"/api/accounts/{account_id}/regenerate-key", headers=session)
        assert regenerated.status_code == 200
        fresh_key = regenerated.json()["apiKey"]
        assert regenerated.json()["apiKeyPrefix"] == fresh_key[:12]
        bodies.clear()  # the two answers above show a key once, by contract; nothing after them may
        keys += [created_key, fresh_key]

        for key in fixture_keys.values():
            auth = {"Authorization": f"Bearer {key}"}
            assert call("GET", "/api/accounts/me", headers=auth).status_code == 200
            call("POST", "/api/workers/claim", json={"runner": "secrets"}, headers=auth)  # 200, 403 (trigger), 429
            call("GET", f"/api/tasks?apiKey={key}&token={key}&note=see+{key}", headers=auth)
        assert call("GET", "/api/accounts/me", headers={"Authorization": f"Bearer {fresh_key}"}).status_code == 200
        assert call("GET", "/api/accounts/me", headers={"Authorization": f"Bearer {created_key}"}).status_code == 401

        for key in (fresh_key, fixture_keys["acme-admin"], fixture_keys["globex-ci"]):
            for wrong in _similar(key):
                response = call("GET", "/api/tasks", headers={"Authorization": f"Bearer {wrong}"})
                assert response.status_code == 401 and response.json() == {"error": "Unauthorized"}
                response = call(
                    "POST", "/api/workers/claim", json={"runner": "x"}, headers={"Authorization": f"Bearer {wrong}"}
                )
                assert response.status_code == 401 and response.json() == {"error": "Unauthorized"}
        # requests that made the mock log a traceback before H1 and H3 were fixed, with a key in the headers
        for crash in (b"[" * 100_000, b'{"title": "deep", "context": {"a": ' + b"[" * 600 + b"]" * 600 + b"}}"):
            call(
                "POST",
                "/api/tasks",
                content=crash,
                headers={"Authorization": f"Bearer {fresh_key}", "Content-Type": "application/json"},
            )

        listed = call("GET", "/api/accounts", headers=session)
        assert listed.status_code == 200 and account_id in listed.text
        mine = next(a for a in listed.json()["accounts"] if a["id"] == account_id)
        assert mine["apiKeyPrefix"] == fresh_key[:12] and not {"apiKey", "apiKeyHash"} & set(mine)
        detail = call("GET", f"/api/accounts/{account_id}", headers=session)
        assert detail.status_code == 200 and not {"apiKey", "apiKeyHash"} & set(detail.json()["account"])

        requests_log = call("GET", "/__mock/requests")
        assert requests_log.status_code == 200 and "/api/tasks" in requests_log.text
        state = call("GET", "/__mock/state")
        events = call("GET", "/__mock/events")
        documented = http.get("/__mock/keys").json()  # public fixture keys on purpose; never a key made later
        assert not _leaks(str(documented), [created_key, fresh_key])

    server.stop()
    output = server.output()
    assert not _leaks(output, keys), "a key is in the server's log output"
    for name, text in {
        "responses": "\n".join(bodies),
        "/__mock/requests": requests_log.text,
        "/__mock/state": state.text,
        "/__mock/events": events.text,
    }.items():
        assert not _leaks(text, keys), f"a key is in {name}"
    credentials = state.json()["credentials"]
    assert all(set(c) == {"accountId", "apiKeyHash"} for c in credentials)
    hashes = {c["apiKeyHash"] for c in credentials}
    assert hashlib.sha256(fresh_key.encode()).hexdigest() in hashes
    assert hashlib.sha256(created_key.encode()).hexdigest() not in hashes  # regenerated: the old hash is gone


def test_auth_looks_keys_up_by_sha256_and_compares_digests_in_constant_time(
    client: Any, mock_app: Any, fixture_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mockserver.domain.store import Store

    key = fixture_keys["acme-ci"]
    digest = hashlib.sha256(key.encode()).hexdigest()
    compared: list[tuple[Any, Any]] = []
    looked_up: list[tuple[str, Any]] = []
    real_compare, real_get = hmac.compare_digest, Store.get

    def counting_compare(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    def spying_get(self: Store, table: str, record_key: Any) -> Any:
        looked_up.append((table, record_key))
        return real_get(self, table, record_key)

    monkeypatch.setattr(hmac, "compare_digest", counting_compare)
    monkeypatch.setattr(Store, "get", spying_get)

    assert client.get("/api/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert compared, "the key check did not go through hmac.compare_digest"
    assert (digest, digest) in [(str(a), str(b)) for a, b in compared]
    assert all(key not in (str(a), str(b)) for a, b in compared), "a plaintext key was compared"
    credential_lookups = [k for table, k in looked_up if table == "credentials"]
    assert credential_lookups == [digest], f"credentials looked up by {credential_lookups}"

    compared.clear()
    looked_up.clear()
    wrong = key[:-1] + ("0" if key[-1] != "0" else "1")
    assert client.get("/api/accounts/me", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    assert [k for table, k in looked_up if table == "credentials"] == [hashlib.sha256(wrong.encode()).hexdigest()]

    store = mock_app.state.mock.api.store
    rows = list(store.rows("credentials"))
    assert rows and all(set(row) == {"accountId", "apiKeyHash"} for row in rows)
    assert digest in {row["apiKeyHash"] for row in rows}
    assert not _leaks(repr(store.dump()), list(fixture_keys.values())), "a plaintext key is in the store"
