"""Authentication, accounts and their keys, and the device login."""

from __future__ import annotations

import hashlib
import re

import pytest

from mockserver.domain.areas.accounts import Accounts, Devices
from mockserver.domain.areas.workers import Workers
from mockserver.domain.areas.workspaces import Workspaces
from mockserver.domain.auth import authenticate, hash_key, key_from_header
from mockserver.domain.errors import BadRequest, NotFound, PreconditionPending, Unauthorized

from .conftest import ACCOUNT_IDS, ADA, SESSIONS, T1, T2, WEB, key_for

KEY_PATTERN = re.compile(r"^bld_[0-9a-f]{64}$")


def login(api, *, authorization=None, session=None, accept=("apiKey", "session")):
    return authenticate(api.store, authorization=authorization, session_token=session, accept=set(accept))


# -- authentication --------------------------------------------------------------------------------------------------


def test_bearer_key_authenticates_its_account_in_its_team(api):
    principal = login(api, authorization=f"Bearer {key_for('svc')}")
    assert principal.is_key and principal.account_id == ACCOUNT_IDS["svc"] and principal.team_ids == {T1}
    assert principal.level == "worker"


def test_raw_key_without_bearer_prefix_is_accepted(api):
    assert login(api, authorization=key_for("svc")).account_id == ACCOUNT_IDS["svc"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer bld_" + "0" * 64,  # well-formed, unknown
        "Bearer bld_" + "A" * 64,  # upper-case hex
        "Bearer bld_123",  # too short
        "bearer " + key_for("svc"),  # the prefix is case-sensitive
        "Basic dXNlcjpwYXNz",
        "",
    ],
)
def test_unknown_or_malformed_key_is_unauthorized(api, header):
    with pytest.raises(Unauthorized) as exc:
        login(api, authorization=header)
    assert exc.value.body() == {"error": "Unauthorized"}


def test_malformed_key_is_never_looked_up():
    assert key_from_header("Bearer bld_" + "g" * 64) is None


def test_session_cookie_authenticates_the_user_in_their_teams(api):
    principal = login(api, session=SESSIONS["ada"])
    assert not principal.is_key and principal.user_id == ADA and principal.team_ids == {T1}


def test_key_wins_when_both_credentials_are_valid(api):
    principal = login(api, authorization=f"Bearer {key_for('globex-svc')}", session=SESSIONS["ada"])
    assert principal.account_id == ACCOUNT_IDS["globex-svc"] and principal.team_ids == {T2}


def test_invalid_key_falls_back_to_a_valid_session(api):
    assert login(api, authorization="Bearer nope", session=SESSIONS["ada"]).user_id == ADA


def test_credential_the_operation_does_not_accept_is_ignored(api):
    with pytest.raises(Unauthorized):
        login(api, authorization=f"Bearer {key_for('svc')}", accept=("session",))
    with pytest.raises(Unauthorized):
        login(api, session=SESSIONS["ada"], accept=("apiKey",))


def test_unknown_session_token_is_unauthorized(api):
    with pytest.raises(Unauthorized):
        login(api, session="not-a-session")


# -- accounts --------------------------------------------------------------------------------------------------------


def test_create_account_returns_its_key_once(api, user):
    created = api.area(Accounts).create_account(user("ada"), {"name": "ci", "type": "service"})
    assert KEY_PATTERN.match(created["apiKey"]) and created["apiKeyPrefix"] == created["apiKey"][:12]
    assert created["teamId"] == T1 and created["level"] == "worker" and created["maxConcurrentWorkers"] == 3
    assert login(api, authorization=f"Bearer {created['apiKey']}").account_id == created["id"]
    listed = next(a for a in api.area(Accounts).list_accounts(user("ada"))["accounts"] if a["id"] == created["id"])
    assert (
        "apiKey" not in listed and "apiKey" not in api.area(Accounts).get_account(user("ada"), created["id"])["account"]
    )


def test_store_keeps_only_the_hash_of_a_created_key(api, user):
    created = api.area(Accounts).create_account(user("ada"), {"name": "ci", "type": "service"})
    assert created["apiKey"] not in repr(api.store.dump())
    assert hash_key(created["apiKey"]) in repr(api.store.dump())


def test_account_lists_never_carry_key_material_even_if_the_world_did(world, raw_api, user):
    with raw_api.store.transaction():
        raw_api.store.update("accounts", ACCOUNT_IDS["svc"], {"apiKey": "deadbeef"})
    listed = raw_api.area(Accounts).list_accounts(user("ada"))["accounts"]
    assert all("apiKey" not in a for a in listed)


def test_create_account_linked_to_a_workspace_can_claim_and_create_there(api, user):
    created = api.area(Accounts).create_account(user("ada"), {"name": "ci", "type": "service", "workspaceId": WEB})
    links = api.area(Workspaces).list_workspace_accounts(user("ada"), WEB)["accounts"]
    assert {
        "accountId": created["id"],
        "accountName": "ci",
        "accountType": "service",
        "canClaim": True,
        "canCreate": True,
    } in links


def test_create_account_in_a_team_the_user_is_not_in_lands_in_their_own_team(api, user):
    assert (
        api.area(Accounts).create_account(user("ada"), {"name": "x", "type": "service", "teamId": T2})["teamId"] == T1
    )


def test_create_account_with_invalid_type_is_400(raw_api, user):
    with pytest.raises(BadRequest):
        raw_api.area(Accounts).create_account(user("ada"), {"name": "x", "type": "robot"})


def test_accounts_of_other_teams_are_invisible(api, user):
    assert ACCOUNT_IDS["globex-svc"] not in {a["id"] for a in api.area(Accounts).list_accounts(user("ada"))["accounts"]}
    with pytest.raises(NotFound, match="Account not found"):
        api.area(Accounts).get_account(user("ada"), ACCOUNT_IDS["globex-svc"])
    with pytest.raises(NotFound):
        api.area(Accounts).regenerate_account_key(user("ada"), ACCOUNT_IDS["globex-svc"])
    with pytest.raises(NotFound):
        api.area(Accounts).delete_account(user("ada"), ACCOUNT_IDS["globex-svc"])


def test_regenerated_key_replaces_the_old_one_at_once(api, user):
    fresh = api.area(Accounts).regenerate_account_key(user("ada"), ACCOUNT_IDS["svc"])
    assert KEY_PATTERN.match(fresh["apiKey"]) and fresh["apiKeyPrefix"] == fresh["apiKey"][:12]
    with pytest.raises(Unauthorized):
        login(api, authorization=f"Bearer {key_for('svc')}")
    assert login(api, authorization=f"Bearer {fresh['apiKey']}").account_id == ACCOUNT_IDS["svc"]
    assert (
        api.area(Accounts).get_account(user("ada"), ACCOUNT_IDS["svc"])["account"]["apiKeyPrefix"]
        == fresh["apiKeyPrefix"]
    )


def test_deleted_account_key_stops_working(api, user):
    assert api.area(Accounts).delete_account(user("ada"), ACCOUNT_IDS["svc"]) == {"success": True}
    with pytest.raises(Unauthorized):
        login(api, authorization=f"Bearer {key_for('svc')}")


def test_me_describes_the_calling_account(api, key):
    assert api.area(Accounts).get_me(key("svc")) == {
        "id": ACCOUNT_IDS["svc"],
        "name": "svc",
        "type": "service",
        "level": "worker",
        "authType": "api",
        "maxConcurrentWorkers": 3,
        "teamId": T1,
    }
    assert api.area(Accounts).get_me(key("oauth"))["budgetPacing"]["state"] == "inert"


# -- device login ----------------------------------------------------------------------------------------------------


def test_device_code_has_the_documented_shape(api):
    code = api.area(Devices).create_device_code({"clientName": "buildd CLI"})
    assert re.fullmatch(r"[A-HJ-NP-Z]{4}-[0-9]{4}", code["user_code"])
    assert re.fullmatch(r"[0-9a-f]{64}", code["device_token"])
    assert code["expires_in"] == 900 and code["interval"] == 5


def test_device_token_is_pending_then_given_once_then_invalid(api, user):
    code = api.area(Devices).create_device_code({"clientName": "laptop", "level": "worker"})
    with pytest.raises(PreconditionPending) as exc:
        api.area(Devices).exchange_device_token({"device_token": code["device_token"]})
    assert exc.value.status == 428 and exc.value.body() == {"error": "authorization_pending"}

    approved = api.area(Devices).approve_device(user("ada"), {"code": code["user_code"].replace("-", "").lower()})
    assert approved["success"] is True and approved["accountName"] == "laptop"

    token = api.area(Devices).exchange_device_token({"device_token": code["device_token"]})
    assert KEY_PATTERN.match(token["api_key"]) and token["email"] == "ada@acme.example"
    principal = login(api, authorization=f"Bearer {token['api_key']}")
    assert principal.account_id == approved["accountId"] and principal.level == "worker"
    with pytest.raises(BadRequest, match="Invalid device token"):
        api.area(Devices).exchange_device_token({"device_token": code["device_token"]})


def test_device_code_expires_after_fifteen_minutes(api, user):
    code = api.area(Devices).create_device_code({})
    api.clock.advance(901)
    with pytest.raises(BadRequest, match="Device code expired"):
        api.area(Devices).exchange_device_token({"device_token": code["device_token"]})
    with pytest.raises(BadRequest):
        api.area(Devices).approve_device(user("ada"), {"code": code["user_code"]})


def test_unknown_device_token_and_code_are_400(api, user):
    with pytest.raises(BadRequest, match="Invalid device token"):
        api.area(Devices).exchange_device_token({"device_token": "f" * 64})
    with pytest.raises(BadRequest):
        api.area(Devices).approve_device(user("ada"), {"code": "ABCD-1234"})


def test_second_device_login_rotates_the_same_accounts_key(api, user):
    keys = []
    for _ in range(2):
        code = api.area(Devices).create_device_code({"clientName": "cli"})
        api.area(Devices).approve_device(user("ada"), {"code": code["user_code"]})
        keys.append(api.area(Devices).exchange_device_token({"device_token": code["device_token"]})["api_key"])
    with pytest.raises(Unauthorized):
        login(api, authorization=f"Bearer {keys[0]}")
    assert login(api, authorization=f"Bearer {keys[1]}").account["name"] == "cli"


def test_device_tokens_are_stored_only_as_hashes(api):
    code = api.area(Devices).create_device_code({})
    assert code["device_token"] not in repr(api.store.dump())
    assert hashlib.sha256(code["device_token"].encode()).hexdigest() in repr(api.store.dump())


def test_key_of_an_account_deleted_after_login_is_unauthorized(api, key, user):
    principal = key("svc")
    api.area(Accounts).delete_account(user("ada"), ACCOUNT_IDS["svc"])
    with pytest.raises(Unauthorized):
        api.area(Workers).claim_tasks(principal, {"runner": "r"})


def test_open_session_logs_a_fixture_user_in_and_refuses_an_unknown_one(api):
    user = next(iter(api.store.rows("users")))
    token, opened = api.open_session(email=str(user["email"]).upper())
    assert opened["id"] == user["id"]
    assert login(api, session=token).user_id == user["id"]
    with pytest.raises(NotFound):
        api.open_session(email="nobody@nowhere.example")
