"""Admin-only maintenance and the browser login hand-off (`GET /api/auth/cli`) that gives the runner its key.

Admin: an `admin`-level key, or a session user who is owner or admin of a team (the fact sheet's "team admin");
anyone else gets `403`. The real routes let any session through; docs/deviations.md has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from mockserver.domain.area import Area
from mockserver.domain.areas.accounts import Accounts
from mockserver.domain.areas.teams_access import ROLE_RANK, user_team_ids
from mockserver.domain.auth import Principal, authenticate
from mockserver.domain.errors import BadRequest, Forbidden, Unauthorized
from mockserver.domain.records import new_account

__all__ = ("DEFAULT_ALIASES", "TeamAdmin")

DEFAULT_ALIASES = {"haiku": "claude-haiku-4-5-20251001", "sonnet": "claude-sonnet-4-6", "opus": "claude-opus-5"}
CLI_CLIENTS = {
    "runner": ("Runner", "worker"),
    "cli": ("CLI", "admin"),
    "mcp": ("MCP Server", "admin"),
    "agent": ("Agent", "admin"),
}
LOCAL_HOSTS = ("localhost", "127.0.0.1")
SIGN_IN_PROVIDERS = ("google", "github")


class TeamAdmin(Area):
    """The operations of `/api/admin/**` and `GET /api/auth/cli`."""

    # -- admin --------------------------------------------------------------------------------------------------

    def require_admin(self, principal: Principal) -> None:
        if principal.is_key:
            if not principal.is_admin_key:
                raise Forbidden("Requires admin-level API key")
            return
        memberships = self.store.find("memberships", "user", str(principal.user_id))
        if not any(ROLE_RANK.get(str(m["role"]), 0) >= ROLE_RANK["admin"] for m in memberships):
            raise Forbidden("Requires a team owner or admin")

    def backfill_entity_graph(self, principal: Principal, body: Mapping[str, Any] | None) -> dict[str, Any]:
        with self.store.lock:
            self.require_admin(principal)
        dry_run = bool((body or {}).get("dryRun", False))
        zero = {"knowledge_entities": 0, "knowledge_edges": 0, "chunk_entities": 0}
        return {
            "dryRun": dry_run,
            "namespacesProcessed": 0,
            "before": dict(zero),
            "after": dict(zero),
            "delta": {**zero, "source_ts_fixed": 0},
            "summary": {"totalChunks": 0, "totalEntities": 0, "totalEdges": 0},
            "namespaceStats": {},
        }

    def backfill_merged_prs(self, principal: Principal) -> dict[str, Any]:
        """Candidates: workers of completed tasks with a PR, not merged; none refreshes without a GitHub app."""
        with self.store.lock:
            self.require_admin(principal)
            total = 0
            for task in self.store.find("tasks", "status", "completed"):
                for worker in self.store.find("workers", "task", str(task["id"])):
                    if (
                        worker.get("prNumber") is not None
                        and worker.get("prUrl")
                        and not worker.get("mergedAt")
                        and worker.get("prLifecycleStatus") != "merged"
                    ):
                        total += 1
            return {"total": total, "refreshed": 0}

    def refresh_model_aliases(self, principal: Principal, body: Mapping[str, Any] | None) -> dict[str, Any]:
        body = body or {}
        with self.store.transaction():
            self.require_admin(principal)
            aliases = {name: str(body.get(name) or default) for name, default in DEFAULT_ALIASES.items()}
            self.store.upsert("modelAliases", {"name": "aliases", **aliases})
            return {"aliases": aliases}

    # -- CLI login ----------------------------------------------------------------------------------------------

    def cli_login(self, query: Mapping[str, str], session_token: str | None) -> str:
        """Where to redirect the browser: the sign-in page, or the callback with a fresh key (or `error`)."""
        callback = query.get("callback")
        if not callback:
            raise BadRequest("callback parameter required")
        try:
            parts = urlsplit(callback)
            host = parts.hostname
        except ValueError:
            raise BadRequest("Invalid callback URL") from None
        if parts.scheme not in ("http", "https") or not host:
            raise BadRequest("Invalid callback URL")
        if host not in LOCAL_HOSTS:
            raise BadRequest("Callback must be localhost")
        client = query.get("client") or "cli"
        passed = {"callback": callback, "client": client}
        passed.update({k: query[k] for k in ("account_name", "level") if query.get(k)})
        back = f"/api/auth/cli?{urlencode(passed)}"
        provider = query.get("provider")
        if provider in SIGN_IN_PROVIDERS:
            return self._sign_in(back, provider)
        try:
            principal = authenticate(self.store, authorization=None, session_token=session_token, accept={"session"})
        except Unauthorized:
            return self._sign_in(back, None)
        default_name, default_level = CLI_CLIENTS.get(client, CLI_CLIENTS["cli"])
        name = query.get("account_name") or default_name
        level = query.get("level") if query.get("level") in ("admin", "worker") else default_level
        with self.store.transaction():
            user = self.store.get("users", principal.user_id) or {}
            teams = user_team_ids(self.store, str(principal.user_id))
            account = next(
                (a for team in teams for a in self.store.find("accounts", "team", team) if a["name"] == name), None
            )
            if account is None:
                if not teams:
                    return _with_query(callback, {"error": "No team found"})
                fields = {"name": name, "type": "user", "level": level, "authType": "api"}
                account = self.store.insert(
                    "accounts", new_account(id=self.ids.uuid4(), team_id=teams[0], fields=fields, now=self._now())
                )
            else:
                self.store.update("accounts", str(account["id"]), {"level": level})
            key = self.api.area(Accounts).issue_key(str(account["id"]))  # the old key stops working at once
        return _with_query(
            callback,
            {
                "token": key,
                "email": str(user.get("email") or ""),
                "pusherKey": self.settings.pusher_key,
                "pusherCluster": self.settings.pusher_cluster,
                **(
                    {"pusherChannelPrefix": self.settings.pusher_channel_prefix}
                    if self.settings.pusher_channel_prefix
                    else {}
                ),
            },
        )

    def _sign_in(self, back: str, provider: str | None) -> str:
        query = {"provider": provider} if provider else {}
        return f"{self.settings.base_url}/app/auth/signin?{urlencode({**query, 'callbackUrl': back})}"


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))
