"""Models and the model tier registry (apps/web/src/app/api/models, model-tiers; packages/core/model-tier-*.ts).

A tier (`premium`, `standard`, `budget`) resolves to a provider and model: the workspace's row, else the team's
row, else the built-in default. Only sessions and admin-level keys read or write the registry. The model list is
a fixed catalogue: the real route asks Anthropic, which the mock never calls. Where the real routes take the team
of any `workspaceId` they are given, the mock answers `404 Workspace not found` (docs/deviations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest
from mockserver.domain.store import Record

from .cred import caller_team_ids

__all__ = ("MODEL_CATALOGUE", "TIER_DEFAULTS", "ModelTiers")

TIERS = ("premium", "standard", "budget")
TIER_DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "premium": {"provider": "anthropic", "model": "claude-opus-5"},
    "standard": {"provider": "anthropic", "model": "claude-sonnet-4-6"},
    "budget": {"provider": "anthropic", "model": "claude-haiku-4-5-20251001"},
}
MODEL_CATALOGUE: tuple[tuple[str, str], ...] = (
    ("claude-opus-5", "Claude Opus 5"),
    ("claude-sonnet-4-6", "Claude Sonnet 4.6"),
    ("claude-opus-4-6", "Claude Opus 4.6"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5"),
)


class ModelTiers(Area):
    def list_models(self) -> dict[str, Any]:
        ordered = sorted(MODEL_CATALOGUE, key=lambda m: m[0], reverse=True)  # the real route's newest-id-first
        return {"models": [{"id": mid, "displayName": name, "provider": "anthropic"} for mid, name in ordered]}

    def _team(self, principal: Principal, workspace_id: str | None) -> str:
        """Admin keys and sessions only; the workspace's team when one is named (and reachable), else the caller's."""
        access.require_admin_level(principal, "Admin token required")
        if workspace_id:
            return str(access.workspace_for(self.store, principal, workspace_id)["teamId"])
        teams = caller_team_ids(principal)
        if not teams:
            raise BadRequest("Could not resolve team")
        return teams[0]

    def _row(self, team_id: str, tier: str, workspace_id: str | None) -> Record | None:
        for row in self.store.find("modelTiers", "team", team_id):
            if row["tier"] == tier and row.get("workspaceId") == workspace_id:
                return row
        return None

    def get_model_tiers(self, principal: Principal, workspace_id: str | None) -> dict[str, Any]:
        with self.store.lock:
            team = self._team(principal, workspace_id)
            tiers: dict[str, Any] = {}
            for tier in TIERS:
                row = (self._row(team, tier, workspace_id) if workspace_id else None) or self._row(team, tier, None)
                if row is None:
                    tiers[tier] = {**TIER_DEFAULTS[tier], "source": "default"}
                    continue
                entry: dict[str, Any] = {"provider": row["provider"], "model": row["model"]}
                if row.get("defaultEffort"):
                    entry["defaultEffort"] = row["defaultEffort"]
                if row.get("defaultMaxTurns") is not None:
                    entry["defaultMaxTurns"] = row["defaultMaxTurns"]
                entry["source"] = "workspace" if row.get("workspaceId") else "team"
                tiers[tier] = entry
            return self._out(tiers)

    def set_model_tier(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        tier, provider, model = str(body["tier"]), str(body["provider"]), str(body["model"])
        workspace_id = self._str(body, "workspaceId")
        max_turns = body.get("defaultMaxTurns")
        with self.store.transaction():
            team = self._team(principal, workspace_id)
            now = self._now()
            fields = {
                "provider": provider,
                "model": model,
                "defaultEffort": body.get("defaultEffort"),
                "defaultMaxTurns": max_turns
                if isinstance(max_turns, int) and not isinstance(max_turns, bool)
                else None,
                "updatedAt": now,
            }
            existing = self._row(team, tier, workspace_id)
            if existing is not None:
                self.store.update("modelTiers", str(existing["id"]), fields)
            else:
                row = {"id": self.ids.uuid4(), "teamId": team, "workspaceId": workspace_id, "tier": tier}
                self.store.insert("modelTiers", {**row, **fields, "createdAt": now})
            return {"ok": True, "tier": tier, "provider": provider, "model": model}

    def delete_model_tier(self, principal: Principal, tier: str, workspace_id: str | None) -> dict[str, Any]:
        with self.store.transaction():
            team = self._team(principal, workspace_id or None)
            row = self._row(team, tier, workspace_id or None)
            if row is not None:
                self.store.delete("modelTiers", str(row["id"]))
            return {"ok": True}
