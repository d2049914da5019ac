"""`ownership.list-hidden` knows shares (`x-shared-in` on `GET /api/connectors`, contracts/shares.py).

The default world shares Acme's Sentry connector with Globex (fixtures/_ext.py), so Globex's key lists it marked
`shared: true`: the probe confirms the share with the owner's `GET /api/connectors/{id}/shares` and passes. It still
catches a real leak: a record listed to another team without the mark, or with the mark but no share behind it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

import contracts
from tests.contracts.conftest import FAST
from tests.contracts.mutants import Keys, Req, Resp, Rewrite, _as_owner, _bearer_of, _is

LIST = "GET /api/connectors"
RULE = "ownership.list-hidden"
_AS_OWNER = "x-mutant-as-owner"


def _options(*, read_only: bool) -> contracts.RunOptions:
    return dataclasses.replace(FAST, suites=("ownership",), operations=(LIST,), read_only=read_only)


def _other_lists_as_owner(req: Req, keys: Keys) -> Req | Resp:
    """Another key's connector list is answered with the owner's (a leak) ..."""
    bearer = _bearer_of(req)
    if _is("GET", "/api/connectors")(req) and bearer and bearer != keys.owner_key:
        owner = _as_owner(req, keys)
        return Req(owner.method, owner.path, {**owner.headers, _AS_OWNER: "1"}, owner.body)
    return req


def _mark_all_shared(req: Req, resp: Resp, keys: Keys) -> Resp:
    """... with every record claiming to be shared with the caller's team."""
    if _AS_OWNER not in req.headers or resp.status != 200:
        return resp
    body = json.loads(resp.body)
    body["connectors"] = [{**c, "shared": True, "ownerTeamId": "x"} for c in body["connectors"]]
    return Resp.json(200, body)


def _drop_shared_mark(req: Req, resp: Resp, keys: Keys) -> Resp:
    """Another key's connector list shows the shared records without their `shared` mark."""
    bearer = _bearer_of(req)
    if not (_is("GET", "/api/connectors")(req) and bearer and bearer != keys.owner_key and resp.status == 200):
        return resp
    body = json.loads(resp.body)
    body["connectors"] = [{k: v for k, v in c.items() if k != "shared"} for c in body["connectors"]]
    return Resp.json(200, body)


MARKED_BUT_NOT_SHARED = Rewrite(
    "lists-owner-connectors-marked-shared",
    RULE,
    LIST,
    ("ownership",),
    (LIST,),
    before=_other_lists_as_owner,
    after=_mark_all_shared,
)
SHARED_UNMARKED = Rewrite(
    "lists-shared-connector-unmarked", RULE, LIST, ("ownership",), (LIST,), after=_drop_shared_mark
)


def _list_checks(result: contracts.RunResult) -> list[Any]:
    return [c for s in result.suites for c in s.checks if c.rule == RULE and c.operation == LIST]


def test_the_seeded_share_is_confirmed_not_taken_for_a_leak(
    make_app: Callable[[], Any], credentials_for: Callable[[Any], contracts.Credentials], world: dict[str, Any]
) -> None:
    app = make_app()
    result = contracts.run(app, credentials_for(app), options=_options(read_only=True))
    assert not result.failures, "\n\n".join(str(f) for f in result.failures)
    assert [c.runs > 0 for c in _list_checks(result)] == [True]
    shared_id = world["connectorShares"][0]["connectorId"]
    notes = " ".join(str(n) for s in result.suites for n in s.notes)
    assert shared_id in notes and "/shares names it" in notes


@pytest.mark.parametrize(
    ("mutant", "read_only", "why"),
    [(MARKED_BUT_NOT_SHARED, False, "does not name the caller's team"), (SHARED_UNMARKED, True, "not marked")],
    ids=["marked-but-not-shared", "shared-but-unmarked"],
)
def test_a_listing_the_owner_did_not_share_is_still_a_leak(
    mutant: Rewrite,
    read_only: bool,
    why: str,
    run_broken: Callable[..., Any],
) -> None:
    result, _ = run_broken(mutant, _options(read_only=read_only))
    found = [f for f in result.failures if f.rule == RULE and f.operation == LIST]
    assert found, [f"{f.rule} {f.operation}" for f in result.failures]
    assert why in str(found[0].actual)


def _item_properties(spec: Any, op: Any, array: str | None) -> set[str]:
    """The properties of the records in `op`'s 200 answer: of `array`'s items, or of every array's items."""
    from contracts.resources import properties_of

    body = properties_of(spec, spec.resolve(str(op.responses["200"])))
    arrays = [spec.deref(v) for k, v in body.items() if array in (None, k)]
    return {p for a in arrays if a.get("type") == "array" for p in properties_of(spec, a.get("items") or {})}


def test_every_x_shared_in_of_the_spec_names_what_the_probe_reads() -> None:
    """A malformed `x-shared-in` would make every listing of a shared record a leak (or hide one): the field is
    declared on the listed records, the shares operation exists and answers the named list of team ids."""
    from contracts.shares import EXTENSION, parse
    from contracts.spec import load_spec

    spec = load_spec()
    declared = [op for op in spec.api_operations() if EXTENSION in op.raw]
    assert [op.operation_id for op in declared] == ["listConnectors"]
    for op in declared:
        marked = parse(op.raw[EXTENSION])
        assert marked is not None and op.method == "GET"
        assert marked.field in _item_properties(spec, op, None), op.label
        shares = spec.operations[marked.shares]
        assert shares.method == "GET" and len(shares.path_params()) == 1, shares.label
        assert marked.team in _item_properties(spec, shares, marked.list), shares.label


@pytest.mark.parametrize(
    "raw", [["shared"], {"field": "shared"}, {"field": "", "shares": "x", "list": "y", "team": "z"}]
)
def test_a_malformed_x_shared_in_is_refused(raw: Any) -> None:
    from contracts.shares import parse

    with pytest.raises(ValueError, match="x-shared-in"):
        parse(raw)
