"""Platform routes: the runner proxy, the budget forecast, releases, visual-QA judging and codebase-map metrics.

Each real route leans on something outside buildd (a runner's local server, GitHub, a model). The mock answers
from its own state instead, deterministically: the runner proxy from the heartbeat and the account's workers,
releases from a simulated repository whose shippable commits are the workspace's completed workers since the last
release, the QA judge from word matches in the captured accessibility text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable
from mockserver.domain.fields import is_uuid
from mockserver.domain.lifecycle import LIVE_WORKER_STATUSES
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import Record, register_table

__all__ = ("Platform",)

RELEASES = "opsReleases"
register_table(RELEASES, "id")

_WINDOW = re.compile(r"^(\d+)([hd])$")
_WORD = re.compile(r"[a-z0-9]+")
RUN_ID_BASE = 9_000_000
MAX_WINDOW_HOURS = 10 * 365 * 24
STRATEGIES = ("workflow_dispatch", "branch_merge", "script")


def _cost(worker: Mapping[str, Any]) -> float:
    try:
        return float(worker.get("costUsd") or 0)
    except ValueError:
        return 0.0


def _sha(seed: str) -> str:
    """A stable 40-hex commit id for something that has no real commit."""
    digits = re.sub(r"[^0-9a-f]", "", seed.lower())
    return (digits * 2)[:40].ljust(40, "0")


def _strategy(config: Mapping[str, Any] | None) -> str:
    """The configured release strategy, `branch_merge` when none is named (the real default)."""
    return str((config or {}).get("strategy") or "branch_merge")


def _strings(value: Any) -> dict[str, str]:
    """Workflow inputs are strings; a config that holds anything else contributes what it can."""
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _avg(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _delta(active: float | None, baseline: float | None) -> float | None:
    return None if active is None or not baseline else (active - baseline) / baseline


class Platform(Area):
    def _require_admin_key(self, principal: Principal) -> None:
        """Session callers pass; keys need the admin level (the real routes answer 401, see deviations.md)."""
        access.require_admin_level(principal)

    # -- the runner proxy ---------------------------------------------------------------------------------------

    def proxy_runner(self, principal: Principal, heartbeat_id: str, path: str) -> dict[str, Any]:
        with self.store.lock:
            beat = next((b for b in self.store.rows("heartbeats") if b.get("id") == heartbeat_id), None)
            if beat is None:
                raise NotFound.of("Runner")
            account_id = str(beat["accountId"])
            account = self.store.get("accounts", account_id) or {}
            visible = {str(ws["id"]) for ws in access.visible_workspaces(self.store, principal)}
            reachable = (
                account.get("teamId") in principal.team_ids
                or any(
                    link["workspaceId"] in visible
                    for link in self.store.find("accountWorkspaces", "account", account_id)
                )
                or any(w["workspaceId"] in visible for w in self.store.find("workers", "account", account_id))
            )
            if not reachable:
                raise Forbidden()
            workers = self.store.find("workers", "account", account_id)
            live = [w for w in workers if w["status"] in LIVE_WORKER_STATUSES]
            if path == "doctor":
                answer: dict[str, Any] = {
                    "ok": True,
                    "localUiUrl": beat["localUiUrl"],
                    "environment": beat.get("environment"),
                    "checks": [
                        {"name": "heartbeat", "ok": True, "detail": f"last heartbeat {beat['lastHeartbeatAt']}"}
                    ],
                }
            elif path == "history/stats":
                answer = {
                    "total": len(workers),
                    "completed": sum(1 for w in workers if w["status"] == "completed"),
                    "failed": sum(1 for w in workers if w["status"] in ("failed", "error")),
                    "totalCostUsd": round(sum(_cost(w) for w in workers), 4),
                }
            else:
                answer = {
                    "maxConcurrentWorkers": beat["maxConcurrentWorkers"],
                    "activeWorkers": [
                        {"workerId": w["id"], "taskId": w["taskId"], "status": w["status"]} for w in live
                    ],
                    "capacity": max(0, int(beat["maxConcurrentWorkers"]) - len(live)),
                }
            return self._out(answer)

    # -- budget -------------------------------------------------------------------------------------------------

    def budget_forecast(self, principal: Principal, workspace_id: str | None) -> dict[str, Any]:
        account = self._caller_account(principal)
        team_id = str(account["teamId"])
        with self.store.lock:
            if workspace_id is not None:
                if not is_uuid(workspace_id):
                    raise BadRequest(
                        f'Invalid workspaceId: expected a UUID, got "{workspace_id}". '
                        "Resolve workspace names to UUIDs before calling this endpoint."
                    )
                ws = self.store.get("workspaces", workspace_id)
                if ws is None or ws["teamId"] != team_id:
                    raise NotFound.of("Workspace")
                scoped = [workspace_id]
            else:
                scoped = [str(ws["id"]) for ws in self.store.find("workspaces", "team", team_id)]
            now = self.clock.now()
            accounts = self.store.find("accounts", "team", team_id)
            oauth = [
                {
                    "kind": "oauth",
                    "accountId": a["id"],
                    "accountName": a["name"],
                    "pressurePct": round(
                        100 * int(a.get("activeSessions") or 0) / max(1, int(a.get("maxConcurrentSessions") or 1)), 1
                    ),
                    "windowEndsAt": to_iso(now + timedelta(hours=5)),
                    "confidence": None,
                    "limiter": None,
                    "episodes": 0,
                    "state": "learning",
                }
                for a in accounts
                if a.get("authType") == "oauth"
            ]
            return self._out(
                {
                    "forecast": {
                        "oauthSessions": oauth,
                        "monthly": self._monthly(accounts, scoped, now),
                        "codex": None,
                        "missions": [],
                    }
                }
            )

    def _monthly(self, accounts: list[Record], workspace_ids: list[str], now: datetime) -> dict[str, Any] | None:
        budget = sum(float(a["monthlyBudgetUsd"]) for a in accounts if a.get("monthlyBudgetUsd"))
        if budget <= 0:
            return None
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        resets = (month_start + timedelta(days=32)).replace(day=1)
        week_ago = now - timedelta(days=7)
        workers = [w for ws in workspace_ids for w in self._workers_of(ws)]
        spent = sum(_cost(w) for w in workers if parse_iso(str(w["createdAt"])) >= month_start)
        recent = [w for w in workers if parse_iso(str(w["createdAt"])) >= week_ago]
        burn = sum(_cost(w) for w in recent) / 7 if recent else None
        left = max(0.0, budget - spent)
        return {
            "kind": "monthly",
            "spentUsd": round(spent, 4),
            "budgetUsd": round(budget, 4),
            "pctUsed": round(100 * spent / budget, 2),
            "resetsAt": to_iso(resets),
            "burnRateUsdPerDay": round(burn, 4) if burn is not None else None,
            "daysToDepletion": round(left / burn, 2) if burn else None,
            "confidence": "high" if len(recent) >= 10 else "medium" if len(recent) >= 3 else "low",
        }

    def _workers_of(self, workspace_id: str) -> list[Record]:
        return [
            w
            for task in self.store.find("tasks", "workspace", workspace_id)
            for w in self.store.find("workers", "task", str(task["id"]))
        ]

    # -- releases -----------------------------------------------------------------------------------------------

    def _release_target(self, principal: Principal, workspace_id: str | None, repo: str | None) -> Record:
        if workspace_id:
            ws = access.workspace_for(self.store, principal, workspace_id)
        elif repo:
            wanted = repo.lower()
            found = [
                w for w in access.visible_workspaces(self.store, principal) if (w.get("repo") or "").lower() == wanted
            ]
            if not found:
                raise NotFound.of("Workspace")
            ws = found[0]
        else:
            raise BadRequest("workspaceId or repo is required")
        if not ws.get("repo"):
            raise BadRequest("Workspace has no linked GitHub repo")
        return ws

    def _shippable(self, ws: Record) -> list[Record]:
        """Completed workers with commits since the last release, newest first: the simulated repository."""
        releases = [r for r in self.store.rows(RELEASES) if r["workspaceId"] == ws["id"]]
        since = max((parse_iso(str(r["createdAt"])) for r in releases), default=None)
        done = [
            w
            for w in self._workers_of(str(ws["id"]))
            if w["status"] == "completed"
            and (w.get("lastCommitSha") or int(w.get("commitCount") or 0) > 0)
            and (since is None or parse_iso(str(w.get("completedAt") or w["updatedAt"])) > since)
        ]
        return sorted(done, key=lambda w: (str(w.get("completedAt") or w["updatedAt"]), str(w["id"])), reverse=True)

    def release_status(self, principal: Principal, query: Mapping[str, str]) -> dict[str, Any]:
        self._require_admin_key(principal)
        with self.store.lock:
            ws = self._release_target(principal, query.get("workspaceId"), query.get("repo"))
            config = ws.get("releaseConfig") or None
            default_branch = str((ws.get("gitConfig") or {}).get("defaultBranch") or "main")
            kind = _strategy(config)
            strategy = kind if config and config.get("enabled") and kind in STRATEGIES else None
            ref = query.get("ref") or str((config or {}).get("ref") or default_branch)
            prod = query.get("prodBranch") or str((config or {}).get("prodBranch") or default_branch)
            if ref == prod:
                raise Unprocessable(
                    f'Release config error: ref and prodBranch resolve to the same value ("{ref}") — comparing a '
                    "branch to itself always shows zero commits. Set releaseConfig.prodBranch.",
                    ok=False,
                )
            commits = [
                {"sha": str(w.get("lastCommitSha") or _sha(str(w["id"]))), "message": self._commit_message(w)}
                for w in self._shippable(ws)
            ]
            return {
                "ok": True,
                "repo": ws["repo"],
                "strategy": strategy,
                "configured": strategy is not None,
                "ref": ref,
                "prodBranch": prod,
                "aheadBy": len(commits),
                "shippableCommits": commits,
                "refHeadSha": commits[0]["sha"] if commits else _sha(str(ws["id"])),
                "ciState": "passing",
                "failingChecks": [],
            }

    def _commit_message(self, worker: Record) -> str:
        task = self.store.get("tasks", worker.get("taskId"))
        return str(task["title"]) if task is not None else str(worker["branch"])

    def trigger_release(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        self._require_admin_key(principal)
        with self.store.transaction():
            ws = self._release_target(principal, body.get("workspaceId"), body.get("repo"))
            config = ws.get("releaseConfig") or None
            inputs = {**_strings((config or {}).get("inputs")), **_strings(body.get("inputs"))}
            if body.get("force") is not None:
                inputs["force"] = "true" if body["force"] else "false"
            if config is None:
                if not (body.get("workflowFile") and body.get("ref")):
                    raise Unprocessable(
                        "Workspace is not configured for releases. Set releaseConfig, or pass workflowFile + ref "
                        "explicitly.",
                        ok=False,
                    )
                workflow, ref = str(body["workflowFile"]), str(body["ref"])
            elif not config.get("enabled"):
                raise Conflict("Release config is disabled for this workspace", ok=False)
            else:
                kind = _strategy(config)
                if kind not in STRATEGIES:
                    raise Unprocessable(f"Unknown release strategy: {kind}", ok=False)
                if kind == "branch_merge":
                    raise Unprocessable(
                        "This workspace uses the branch_merge strategy, which releases automatically on task "
                        "completion — not via the standalone trigger.",
                        ok=False,
                    )
                if kind == "script":
                    raise Unprocessable("The script release strategy is not yet implemented.", ok=False)
                workflow = str(body.get("workflowFile") or config.get("workflowFile") or "")
                ref = str(body.get("ref") or config.get("ref") or "")
                if not workflow or not ref:
                    missing = "workflowFile" if not workflow else "ref"
                    raise Unprocessable(f"workflow_dispatch strategy requires releaseConfig.{missing}", ok=False)
            previous = [r for r in self.store.rows(RELEASES) if r["workspaceId"] == ws["id"]]
            run_id = RUN_ID_BASE + len(previous) + 1
            self.store.insert(
                RELEASES,
                {
                    "id": self.ids.uuid4(),
                    "workspaceId": ws["id"],
                    "runId": run_id,
                    "workflowFile": workflow,
                    "ref": ref,
                    "inputs": inputs,
                    "shipped": [str(w["id"]) for w in self._shippable(ws)],
                    "createdAt": self._now(),
                },
            )
            repo = str(ws["repo"])
            return {
                "ok": True,
                "strategy": "workflow_dispatch",
                "repo": repo,
                "dispatched": True,
                "workflowFile": workflow,
                "ref": ref,
                "inputs": inputs,
                "runId": run_id,
                "runStatus": "queued",
                "runConclusion": None,
                "runUrl": f"https://github.com/{repo}/actions/runs/{run_id}",
                "runsUrl": f"https://github.com/{repo}/actions/workflows/{workflow}",
            }

    # -- QA -----------------------------------------------------------------------------------------------------

    def judge(self, body: Mapping[str, Any]) -> dict[str, Any]:
        route, capture = body["route"], body["capture"]
        expectations = list(route.get("expectations") or [])
        head = {"id": route["id"], "title": route.get("title")}
        if capture.get("skipped"):
            return {
                **head,
                "overallVerdict": "SKIPPED",
                "summary": capture.get("skipReason") or "no CI fixture",
                "expectations": [
                    {
                        "id": e["id"],
                        "verdict": "DOCUMENTED-NOT-BUILT",
                        "evidence": "Route skipped in CI — dynamic path requires real fixture",
                    }
                    for e in expectations
                ],
            }
        if capture.get("error"):
            return {
                **head,
                "overallVerdict": "ERROR",
                "summary": f"Capture failed: {capture['error']}",
                "expectations": [],
            }
        seen = set(_WORD.findall(str(capture.get("a11yText") or "").lower()))
        verdicts = []
        for e in expectations:
            words = set(_WORD.findall(str(e.get("desc") or "").lower()))
            missing = sorted(words - seen)
            verdicts.append(
                {
                    "id": e["id"],
                    "verdict": "DOCUMENTED-NOT-BUILT" if missing or not words else "MATCHES-SPEC",
                    "evidence": f"not in the accessibility tree: {', '.join(missing)}"
                    if missing
                    else "every word of the description is in the accessibility tree"
                    if words
                    else "the expectation has no description to look for",
                }
            )
        matched = sum(1 for v in verdicts if v["verdict"] == "MATCHES-SPEC")
        if capture.get("redirected"):
            overall = "REDIRECTED"
        elif matched == len(verdicts):
            overall = "PASS"
        else:
            overall = "FAIL" if matched == 0 else "PARTIAL"
        summary = f"{matched} of {len(verdicts)} expectations found on {capture.get('finalUrl') or capture['url']}"
        return {**head, "overallVerdict": overall, "summary": summary, "expectations": verdicts}

    # -- codebase-map metrics -----------------------------------------------------------------------------------

    def cbm_metrics(self, principal: Principal, window: str | None, workspace_id: str | None) -> dict[str, Any]:
        self._require_admin_key(principal)
        label = window or "7d"
        match = _WINDOW.match(label)
        hours = (int(match[1]) if match[2] == "h" else int(match[1]) * 24) if match else 7 * 24
        span = timedelta(hours=min(hours, MAX_WINDOW_HOURS))  # a window past the mock's epoch counts everything
        start = self.clock.now() - span
        with self.store.lock:
            ids = [str(ws["id"]) for ws in access.visible_workspaces(self.store, principal)]
            if workspace_id is not None:
                ids = [i for i in ids if i == workspace_id]
            rows = [w for ws in ids for w in self._workers_of(ws) if parse_iso(str(w["createdAt"])) >= start]
        active: list[tuple[int, Mapping[str, Any]]] = []
        disabled: list[tuple[int, Mapping[str, Any]]] = []
        for w in rows:
            cbm = (w.get("resultMeta") or {}).get("cbm")
            if isinstance(cbm, Mapping):
                (disabled if cbm.get("outcome") == "disabled" else active).append((int(w.get("inputTokens") or 0), cbm))

        def access_calls(cbm: Mapping[str, Any]) -> float:
            return float(sum(int(cbm.get(k) or 0) for k in ("readCount", "grepCount", "globCount")))

        tools: dict[str, list[float]] = {}
        for _, cbm in active:
            for tool, count in (cbm.get("toolCalls") or {}).items():
                tools.setdefault(str(tool), []).append(float(count))
        reasons: dict[str, int] = {}
        for _, cbm in disabled:
            reason = str(cbm.get("disableReason") or "unknown")
            reasons[reason] = reasons.get(reason, 0) + 1
        tracked = len(active) + len(disabled)
        fallback = len(disabled) / tracked if tracked else None
        a_tokens, d_tokens = _avg([float(t) for t, _ in active]), _avg([float(t) for t, _ in disabled])
        a_files, d_files = _avg([access_calls(c) for _, c in active]), _avg([access_calls(c) for _, c in disabled])
        return {
            "window": label,
            "windowStart": to_iso(start.astimezone(UTC)),
            "totalTracked": tracked,
            "fallbackRate": fallback,
            "cbmActive": {
                "count": len(active),
                "avgInputTokens": a_tokens,
                "avgFileAccessCalls": a_files,
                "avgToolCalls": {tool: _avg(counts) for tool, counts in tools.items()},
            },
            "cbmDisabled": {
                "count": len(disabled),
                "avgInputTokens": d_tokens,
                "avgFileAccessCalls": d_files,
                "disableReasons": reasons,
            },
            "specTargets": {
                "inputTokenDeltaPct": _delta(a_tokens, d_tokens),
                "fileAccessDeltaPct": _delta(a_files, d_files),
                "fallbackRateTarget": 0.05,
                "fallbackRateMet": fallback < 0.05 if fallback is not None else None,
            },
        }
