"""The `/__mock` control API (spec tag `mock`): one handler per operationId, run by the same dispatcher.

The control operations go through the same auth (they are public), validation, Prefer and strict machinery as
the buildd API, so their requests and answers are held to the spec's `Mock*` schemas too. The realtime package
serves `/__mock/events` and `/__mock/events/stream` itself. `MockSettings(control_api=False)` removes them all.

    POST   /__mock/reset     {scenario?, seed?}   reload a fixture scenario; the clock goes back to its epoch
    GET    /__mock/state                          the state as a world (key hashes only)
    GET    /__mock/keys                           the scenario's documented fixture keys and session users
    GET    /__mock/clock                          now, as the mock sees it
    POST   /__mock/clock     {advanceSeconds}     move on; expired claims go back to pending, stale workers fail
    POST   /__mock/session   {email | userId}     a session cookie for a fixture user
    GET|PUT|DELETE /__mock/faults                 latency and fault rules (see faults.py)
    GET    /__mock/requests?limit=                the request log, newest last, credentials masked
    GET    /__mock/webhook-deliveries             outgoing webhook deliveries, recorded instead of sent (area ext)
    GET    /__mock/webhook-secrets                the secrets signed incoming webhooks are verified with (area ext)
"""

from __future__ import annotations

from typing import Any

from mockserver.domain.auth import hash_key
from mockserver.domain.errors import BadRequest
from mockserver.domain.store import TABLES
from mockserver.http.context import MockContext
from mockserver.http.routes import Call, Handler
from mockserver.http.routes import ext as ext_routes

__all__ = ("control_handlers", "fixture_keys")


def control_handlers(ctx: MockContext) -> dict[str, Handler]:
    """The control handlers bound to one mock's context, by operationId."""

    def reset(call: Call) -> dict[str, Any]:
        body = call.body or {}
        try:
            ctx.reset(body.get("scenario"), body.get("seed"))
        except LookupError as exc:
            raise BadRequest(str(exc).strip("'\"")) from None
        store = ctx.api.store
        return {"scenario": ctx.scenario, "counts": {table: store.count(table) for table in TABLES}}

    def dump_state(call: Call) -> dict[str, Any]:
        return ctx.api.store.dump()

    def list_keys(call: Call) -> dict[str, Any]:
        return fixture_keys(ctx)

    def get_clock(call: Call) -> dict[str, Any]:
        return ctx.clock_now()

    def advance_clock(call: Call) -> dict[str, Any]:
        return ctx.advance_clock(float(call.body["advanceSeconds"]))

    def create_session(call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        token, user = ctx.api.open_session(email=call.body.get("email"), user_id=call.body.get("userId"))
        cookie = f"{ctx.session_cookie}={token}"
        headers = {"Set-Cookie": f"{cookie}; Path=/; HttpOnly; SameSite=Lax"}
        return 200, {"token": token, "cookie": cookie, "user": user}, headers

    def list_faults(call: Call) -> dict[str, Any]:
        return {"rules": ctx.faults.rules()}

    def set_faults(call: Call) -> dict[str, Any]:
        return {"rules": ctx.faults.replace(call.body["rules"])}

    def clear_faults(call: Call) -> dict[str, Any]:
        return {"rules": ctx.faults.clear()}

    def list_requests(call: Call) -> dict[str, Any]:
        return {"requests": ctx.requests.recent(call.query.get("limit"))}

    return {
        "mockReset": reset,
        "mockDumpState": dump_state,
        "mockListKeys": list_keys,
        "mockGetClock": get_clock,
        "mockAdvanceClock": advance_clock,
        "mockCreateSession": create_session,
        "mockListFaults": list_faults,
        "mockSetFaults": set_faults,
        "mockClearFaults": clear_faults,
        "mockListRequests": list_requests,
        # area ext: what the mock records instead of calling outside services, and the secrets it verifies with
        "mockListWebhookDeliveries": ext_routes.mock_list_webhook_deliveries,
        "mockGetWebhookSecrets": ext_routes.mock_get_webhook_secrets,
    }


def fixture_keys(ctx: MockContext) -> dict[str, Any]:
    """The world's plaintext fixture keys that still work, with their accounts, and its users with their teams."""
    store = ctx.api.store
    accounts = []
    with store.lock:
        for cred in ctx.world.get("credentials") or []:
            key = cred.get("apiKey")
            account = store.get("accounts", cred.get("accountId"))
            if not key or account is None or store.get("credentials", hash_key(key)) is None:
                continue  # regenerated, deleted, or never documented
            accounts.append(
                {
                    "accountId": account["id"],
                    "name": account["name"],
                    "teamId": account["teamId"],
                    "type": account["type"],
                    "level": account["level"],
                    "authType": account["authType"],
                    "key": key,
                }
            )
        users = [
            {
                "userId": user["id"],
                "email": user["email"],
                "name": user["name"],
                "teamIds": [m["teamId"] for m in store.find("memberships", "user", str(user["id"]))],
            }
            for user in store.rows("users")
        ]
    return {"scenario": ctx.scenario, "accounts": accounts, "users": users}
