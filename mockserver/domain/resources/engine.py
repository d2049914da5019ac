"""The generic list / get / create / update / delete of every declared resource, under the domain's rules.

The HTTP layer has already authenticated the caller (401) and validated the body against the operation's request
schema (400). This engine adds what is the domain's: reach (another team's record is out of reach and answers as
the operation's `x-ownership` says, else `404 <Name> not found`), who may write (403), defaults and derived fields,
filters and pagination as the spec declares them, events on commit, cascades, and the store (so the state file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.resources import ResourceOperation, resource_operations
from contracts.spec import Spec
from mockserver.domain import access
from mockserver.domain._base import Ops
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, DomainError, Forbidden, NotFound
from mockserver.domain.events import worker_channel, workspace_channel
from mockserver.domain.resources.declaration import Action, Resource, Stamp
from mockserver.domain.resources.registry import resource
from mockserver.domain.runtime import parse_iso
from mockserver.domain.store import Record

__all__ = ("ResourceEngine",)

Reply = tuple[int, dict[str, Any]]


class _OutOfReach(DomainError):
    """The operation's `x-ownership` answer (its status and error) for a record the caller may not reach."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ResourceEngine(Ops):
    """Serves every operation of `spec` that carries `x-resource`; `handle(operation_id, ...)` is the one door."""

    def __init__(self, ops: Ops, spec: Spec) -> None:
        super().__init__(ops.store, ops.clock, ops.ids, ops.outbox, ops.settings)
        self.operations = resource_operations(spec)

    def handles(self, operation_id: str) -> bool:
        return operation_id in self.operations

    def handle(
        self, operation_id: str, principal: Principal, path: Mapping[str, str], query: Mapping[str, str], body: Any
    ) -> Reply:
        rop = self.operations[operation_id]
        res = resource(rop.name)
        if rop.action == "list":
            return self._list(rop, res, principal, self._scope_id(res, path, query), query)
        if rop.action == "create":
            return self._create(rop, res, principal, self._scope_id(res, path, query), body or {})
        record_id = path.get(res.id_param)
        if record_id is None:
            raise BadRequest(f"{res.id_param} is required")
        if rop.action == "get":
            with self.store.lock:
                return self._reply(rop, self._record(rop, res, principal, record_id))
        if rop.action == "update":
            return self._update(rop, res, principal, record_id, body or {})
        return self._delete(rop, res, principal, record_id)

    # -- reach --------------------------------------------------------------------------------------------------

    @staticmethod
    def _scope_id(res: Resource, path: Mapping[str, str], query: Mapping[str, str]) -> str:
        scope_id = path.get(res.scope_field) or query.get(res.scope_field)
        if not scope_id:
            raise BadRequest(f"{res.scope_field} is required")
        return scope_id

    def _reach(self, rop: ResourceOperation, res: Resource, principal: Principal, scope_id: str) -> Record:
        """The record the resource belongs to, if the caller may reach it; else the operation's ownership answer."""
        try:
            if res.scope == "workspace":
                return access.workspace_for(self.store, principal, scope_id)
            if res.scope == "worker":
                return access.worker_for(self.store, principal, scope_id)
            if res.scope == "account":
                account = access.account_for(self.store, principal, scope_id)
                if principal.is_key and principal.account_id != scope_id:
                    raise Forbidden()
                return account
            team = self.store.get("teams", scope_id)
            if team is None or scope_id not in principal.team_ids:
                raise NotFound.of("Team")
            return team
        except DomainError as exc:
            rule = rop.op.ownership
            if rule is not None and rule.resource == res.scope:
                if rule.session is not None and not principal.is_key:
                    rule = rule.session
                raise _OutOfReach(rule.status, rule.error) from exc
            raise

    def _record(self, rop: ResourceOperation, res: Resource, principal: Principal, record_id: str) -> Record:
        """The record, if it exists and its scope is within reach; else the operation's ownership answer."""
        record = self.store.get(res.table, record_id)
        try:
            if record is None:
                raise NotFound.of(res.title)
            self._reach(rop, res, principal, str(record[res.scope_field]))
        except DomainError as exc:
            rule = rop.op.ownership
            if rule is not None and rule.resource == res.name:
                if rule.session is not None and not principal.is_key:
                    rule = rule.session
                raise _OutOfReach(rule.status, rule.error) from exc
            if isinstance(exc, _OutOfReach):
                raise
            raise NotFound.of(res.title) from exc
        return record

    @staticmethod
    def _may_write(res: Resource, principal: Principal) -> None:
        if not (res.writable_by_keys if principal.is_key else res.writable_by_sessions):
            raise Forbidden()

    # -- actions ------------------------------------------------------------------------------------------------

    def _list(
        self, rop: ResourceOperation, res: Resource, principal: Principal, scope_id: str, query: Mapping[str, str]
    ) -> Reply:
        """Newest first (createdAt, then id); filters and `limit`/`offset` only where the operation declares them."""
        limit = _bounded(query, "limit", rop.limit_default, 1, rop.limit_max)
        offset = _bounded(query, "offset", 0, 0, None) or 0
        with self.store.lock:
            self._reach(rop, res, principal, scope_id)
            rows = [
                r
                for r in self.store.find(res.table, "scope", scope_id)
                if all(str(r.get(f)) == query[f] for f in rop.filters if f in query and f != res.scope_field)
            ]
            rows.sort(key=lambda r: (parse_iso(str(r["createdAt"])), str(r["id"])), reverse=True)
            total = len(rows)
            shown = rows[offset : offset + limit] if limit is not None else rows[offset:]
            items = [{k: v for k, v in r.items() if k not in rop.write_only} for r in shown]
            out: dict[str, Any] = {rop.envelope or res.table: items}
            if "total" in rop.page_fields:
                out["total"] = total
            if "hasMore" in rop.page_fields:
                out["hasMore"] = offset + len(shown) < total
            return rop.status, self._out(out)

    def _create(
        self, rop: ResourceOperation, res: Resource, principal: Principal, scope_id: str, body: Mapping[str, Any]
    ) -> Reply:
        self._may_write(res, principal)
        with self.store.transaction():
            self._reach(rop, res, principal, scope_id)
            now = self._now()
            stamp = Stamp(now=now, principal=principal, scope_id=scope_id, new_id=self.ids.uuid4())
            record: dict[str, Any] = {"id": stamp.new_id, res.scope_field: scope_id}
            record.update({name: res.default_value(name, stamp) for name in res.defaults})
            record.update({k: v for k, v in body.items() if k in rop.fields and k not in ("id", res.scope_field)})
            record.update({"createdAt": now, "updatedAt": now})
            record.update({name: fn(stamp, record) for name, fn in res.derived.items()})
            created = self.store.insert(res.table, record)
            self._announce(res, "create", created)
            return self._reply(rop, created)

    def _update(
        self, rop: ResourceOperation, res: Resource, principal: Principal, record_id: str, body: Mapping[str, Any]
    ) -> Reply:
        self._may_write(res, principal)
        with self.store.transaction():
            record = self._record(rop, res, principal, record_id)
            locked = res.immutable | {"id", res.scope_field, "createdAt", "updatedAt"}
            changes = {k: v for k, v in body.items() if k in rop.fields and k not in locked}
            now = self._now()
            changes["updatedAt"] = now
            stamp = Stamp(now=now, principal=principal, scope_id=str(record[res.scope_field]), new_id=record_id)
            merged = {**record, **changes}
            changes.update({name: fn(stamp, merged) for name, fn in res.derived.items()})
            updated = self.store.update(res.table, record_id, changes)
            self._announce(res, "update", updated)
            return self._reply(rop, updated)

    def _delete(self, rop: ResourceOperation, res: Resource, principal: Principal, record_id: str) -> Reply:
        self._may_write(res, principal)
        with self.store.transaction():
            record = self._record(rop, res, principal, record_id)
            for cascade in res.cascades:
                for child in list(self.store.find(cascade.table, cascade.field, record_id)):
                    if cascade.detach:
                        self.store.update(cascade.table, str(child["id"]), {cascade.field: None})
                    else:
                        self.store.delete(cascade.table, str(child["id"]))
            self.store.delete(res.table, record_id)
            self._announce(res, "delete", record)
            return rop.status, self._view(rop, record) if rop.envelope else {"success": True}

    # -- output -------------------------------------------------------------------------------------------------

    def _view(self, rop: ResourceOperation, record: Record) -> dict[str, Any]:
        shown = {k: v for k, v in record.items() if k not in rop.write_only}
        return self._out({rop.envelope: shown} if rop.envelope else shown)

    def _reply(self, rop: ResourceOperation, record: Record) -> Reply:
        return rop.status, self._view(rop, record)

    def _announce(self, res: Resource, action: Action, record: Record) -> None:
        name = res.events.get(action)
        if name is None:
            return
        if res.scope == "worker":
            channel = worker_channel(str(record["workerId"]))
        elif record.get("workspaceId"):
            channel = workspace_channel(str(record["workspaceId"]))
        else:
            return  # team and account records outside a workspace have no public channel
        self._emit(channel, name, {res.name: {k: v for k, v in record.items() if k not in self._hidden(res)}})

    def _hidden(self, res: Resource) -> frozenset[str]:
        return frozenset().union(*(rop.write_only for rop in self.operations.values() if rop.name == res.name))


def _bounded(query: Mapping[str, str], name: str, default: int | None, minimum: int, maximum: int | None) -> int | None:
    """A paging parameter as the spec bounds it (the HTTP layer has checked its type; the domain checks again)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadRequest(f"{name} must be an integer") from exc
    if value < minimum or (maximum is not None and value > maximum):
        raise BadRequest(
            f"{name} must be between {minimum} and {maximum}"
            if maximum is not None
            else f"{name} must be at least {minimum}"
        )
    return value
