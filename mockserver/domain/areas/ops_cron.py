"""The platform's scheduled jobs (`/api/cron/*`), run on the mock's clock.

Public routes guarded by one bearer secret (the real CRON_SECRET; the mock's is `Settings.cron_secret`). Each job
is deterministic and works on the mock's state: due schedules make tasks, claims and silent workers expire, stale
failed tasks are archived, waiting pull requests are noticed once, signing keys rotate. Jobs whose real work is
outside buildd (GitHub, third-party tokens, a feedback pipeline) report what the mock can know: zero or skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mockserver.domain.area import Area
from mockserver.domain.areas.schedules import next_cron_time
from mockserver.domain.errors import Unauthorized
from mockserver.domain.lifecycle import LIVE_WORKER_STATUSES, TERMINAL_TASK_STATUSES, move_task
from mockserver.domain.records import new_task
from mockserver.domain.runtime import parse_iso, to_iso
from mockserver.domain.store import Record, register_table

__all__ = ("Cron",)

SIGNING_KEYS = "opsSigningKeys"
STALL_NOTICES = "opsStallNotices"
register_table(SIGNING_KEYS, "kid")
register_table(STALL_NOTICES, "workerId")

MAX_SCHEDULES_PER_RUN = 50
ARCHIVE_AFTER = timedelta(days=30)
STALL_AFTER = timedelta(minutes=60)
RECONCILE_AFTER = timedelta(days=7)
KEY_MAX_AGE = timedelta(days=30)
RETIRE_WINDOW = timedelta(days=10)
RETIRE_WINDOW_FORCED = timedelta(minutes=10)
UNFINISHED = ("pending", "assigned", "in_progress")


def _schedule_next(schedule: Record, after: datetime) -> str | None:
    try:
        found = next_cron_time(str(schedule["cronExpression"]), after, str(schedule.get("timezone") or "UTC"))
    except (ValueError, KeyError):
        return None
    return to_iso(found) if found is not None else None


class Cron(Area):
    def check_secret(self, authorization: str | None) -> None:
        """`Authorization: Bearer <cron secret>`, compared whole, or 401 like every other credential."""
        token = (authorization or "").removeprefix("Bearer ")
        if not token or token != self.settings.cron_secret:
            raise Unauthorized()

    # -- schedules ----------------------------------------------------------------------------------------------

    def run_due_schedules(self) -> dict[str, Any]:
        counts = dict.fromkeys(("processed", "created", "skipped", "deferred", "errors"), 0)
        created: list[str] = []
        with self.store.transaction():
            now = self.clock.now()
            due = sorted(
                (
                    s
                    for s in self.store.rows("schedules")
                    if s.get("enabled") and s.get("nextRunAt") and parse_iso(str(s["nextRunAt"])) <= now
                ),
                key=lambda s: (str(s["nextRunAt"]), str(s["id"])),
            )[:MAX_SCHEDULES_PER_RUN]
            stamp = to_iso(now)
            for schedule in due:
                counts["processed"] += 1
                sid = str(schedule["id"])
                workspace = self.store.get("workspaces", schedule["workspaceId"])
                if workspace is None:
                    counts["errors"] += 1
                    self.store.update(
                        "schedules",
                        sid,
                        {
                            "consecutiveFailures": int(schedule.get("consecutiveFailures") or 0) + 1,
                            "lastError": "Workspace not found",
                            "nextRunAt": _schedule_next(schedule, now),
                            "updatedAt": stamp,
                        },
                    )
                    continue
                running = [
                    t
                    for t in self.store.find("tasks", "workspace", str(workspace["id"]))
                    if t.get("scheduleId") == sid and t["status"] not in TERMINAL_TASK_STATUSES
                ]
                if len(running) >= int(schedule.get("maxConcurrentFromSchedule") or 1):
                    counts["skipped"] += 1
                    self.store.update(
                        "schedules", sid, {"nextRunAt": _schedule_next(schedule, now), "updatedAt": stamp}
                    )
                    continue
                task = self._task_from(schedule, workspace, stamp)
                created.append(str(task["id"]))
                counts["created"] += 1
                one_shot = bool(schedule.get("oneShot"))
                self.store.update(
                    "schedules",
                    sid,
                    {
                        "lastRunAt": stamp,
                        "lastTaskId": task["id"],
                        "totalRuns": int(schedule.get("totalRuns") or 0) + 1,
                        "consecutiveFailures": 0,
                        "lastError": None,
                        "enabled": not one_shot,
                        "nextRunAt": None if one_shot else _schedule_next(schedule, now),
                        "updatedAt": stamp,
                    },
                )
                self._announce_new_task(task)
        return {
            **counts,
            "triggerChecks": 0,
            "heartbeatOrphans": 0,
            "deterministicHeartbeatSkips": 0,
            "llmHeartbeatInvocations": 0,
            "healthWatcher": None,
            "archivedMissions": [],
            "overdueHeartbeatAlerts": 0,
            "taskIds": created,
        }

    def _task_from(self, schedule: Record, workspace: Record, now: str) -> Record:
        template = dict(schedule.get("taskTemplate") or {})
        git = workspace.get("gitConfig") or {}
        fields = {
            **template,
            "title": str(template.get("title") or schedule["name"]),
            "creationSource": "schedule",
            "runnerPreference": template.get("runnerPreference") or git.get("defaultRunnerPreference") or "any",
            "backend": git.get("defaultBackend") or "claude",
        }
        record = new_task(id=self.ids.uuid4(), workspace_id=str(workspace["id"]), fields=fields, now=now)
        record["scheduleId"] = schedule["id"]
        return self.store.insert("tasks", record)

    # -- tasks and leases ---------------------------------------------------------------------------------------

    def archive_stale_tasks(self) -> dict[str, Any]:
        with self.store.transaction():
            now = self.clock.now()
            needed = {
                dep
                for status in UNFINISHED
                for t in self.store.find("tasks", "status", status)
                for dep in t.get("dependsOn") or []
            }
            stale = [
                t
                for t in self.store.find("tasks", "status", "failed")
                if now - parse_iso(str(t["updatedAt"])) > ARCHIVE_AFTER and t["id"] not in needed
            ]
            for task in stale:
                move_task(self.store, task, "cancelled", to_iso(now))
            return {"ok": True, "archived": len(stale)}

    def guard_lease_expiry(self) -> dict[str, Any]:
        """The mock's leases are task claims: expire them (and silent workers) as the clock's sweep does."""
        with self.store.transaction():
            claimed = {
                str(t["id"]): t for s in ("assigned", "in_progress") for t in self.store.find("tasks", "status", s)
            }
            live = {str(w["id"]): w for s in LIVE_WORKER_STATUSES for w in self.store.find("workers", "status", s)}
            self.api.sweep()
            details: dict[str, dict[str, str]] = {}
            for wid, worker in live.items():
                if (self.store.get("workers", wid) or {}).get("status") == "failed":
                    details[wid] = {"runnerId": str(worker.get("runner") or worker["accountId"]), "purpose": "worker"}
            for tid, task in claimed.items():
                if (self.store.get("tasks", tid) or {}).get("status") == "pending":
                    details[tid] = {"runnerId": str(task.get("claimedBy") or ""), "purpose": "task_claim"}
            return {"checked": len(details), "alerted": len(details), "details": details}

    # -- pull requests ------------------------------------------------------------------------------------------

    def _open_prs(self) -> list[Record]:
        return [w for w in self.store.rows("workers") if w.get("prUrl") and not w.get("mergedAt")]

    def notify_stalled_reviews(self) -> dict[str, Any]:
        with self.store.transaction():
            now = self.clock.now()
            waiting = self._open_prs()
            notified = 0
            for worker in waiting:
                done = worker.get("completedAt")
                if not done or now - parse_iso(str(done)) < STALL_AFTER:
                    continue
                if self.store.get(STALL_NOTICES, str(worker["id"])) is not None:
                    continue
                self.store.insert(STALL_NOTICES, {"workerId": worker["id"], "notifiedAt": to_iso(now)})
                notified += 1
            return {"ok": True, "checked": len(waiting), "notified": notified}

    def reconcile_pull_requests(self) -> dict[str, Any]:
        with self.store.lock:
            now = self.clock.now()
            stale = [w for w in self._open_prs() if now - parse_iso(str(w["updatedAt"])) >= RECONCILE_AFTER]
            return {"ok": True, "total": len(stale), "stamped": 0, "closed": 0, "skipped": len(stale)}

    # -- routing ------------------------------------------------------------------------------------------------

    def calibrate_routing(self) -> dict[str, Any]:
        with self.store.lock:
            now = self.clock.now()
            start = now - timedelta(days=7)
            buckets: dict[tuple[Any, Any, Any], list[Record]] = {}
            for status in ("completed", "failed"):
                for task in self.store.find("tasks", "status", status):
                    if parse_iso(str(task["updatedAt"])) >= start:
                        key = (task.get("category"), task.get("tier"), task.get("backend"))
                        buckets.setdefault(key, []).append(task)
            rows = [self._bucket(key, tasks) for key, tasks in sorted(buckets.items(), key=lambda kv: str(kv[0]))]
        return {
            "windowDays": 7,
            "windowStart": to_iso(start),
            "totalOutcomes": sum(int(b["total"]) for b in rows),
            "buckets": rows,
            "flags": {
                "undershoots": [b for b in rows if b["retryRate"] >= 0.25 and b["total"] >= 5],
                "overshoots": [
                    b
                    for b in rows
                    if b["predictedModel"] == "opus"
                    and b["avgTurns"] is not None
                    and b["avgTurns"] <= 5
                    and b["total"] >= 5
                ],
            },
        }

    def _bucket(self, key: tuple[Any, Any, Any], tasks: list[Record]) -> dict[str, Any]:
        workers = {str(t["id"]): self.store.find("workers", "task", str(t["id"])) for t in tasks}
        total = len(tasks)
        completed = sum(1 for t in tasks if t["status"] == "completed")
        retried = sum(1 for t in tasks if len(workers[str(t["id"])]) > 1)
        turns = [float(w.get("turns") or 0) for ws in workers.values() for w in ws]
        costs = [float(w.get("costUsd") or 0) for ws in workers.values() for w in ws]
        return {
            "kind": key[0],
            "complexity": key[1],
            "predictedModel": key[2],
            "total": total,
            "completed": completed,
            "retried": retried,
            "downshifted": 0,
            "successRate": completed / total,
            "retryRate": retried / total,
            "avgTurns": sum(turns) / len(turns) if turns else None,
            "avgCostUsd": sum(costs) / len(costs) if costs else None,
        }

    # -- the rest -----------------------------------------------------------------------------------------------

    def digest_feedback(self, window_hours: int | None) -> dict[str, Any]:
        hours = window_hours or 24
        return {
            "ok": True,
            "windowHours": hours,
            "stats": {"windowHours": hours, "positive": 0, "negative": 0},
            "digest": {"totalNegativeFeedback": 0, "teams": []},
        }

    def rotate_signing_keys(self, force: bool) -> dict[str, Any]:
        """Bootstrap a key, rotate one older than 30 days (or when forced), drop retired keys past their window."""
        with self.store.transaction():
            now = self.clock.now()
            keys = sorted(self.store.rows(SIGNING_KEYS), key=lambda k: (str(k["createdAt"]), str(k["kid"])))
            expired = [k for k in keys if k.get("expiresAt") and parse_iso(str(k["expiresAt"])) < now]
            for key in expired:
                self.store.delete(SIGNING_KEYS, str(key["kid"]))
            live = [k for k in keys if k not in expired]
            active = next((k for k in live if k.get("expiresAt") is None), None)
            rotate = force or active is None or now - parse_iso(str(active["createdAt"])) > KEY_MAX_AGE
            new_kid: str | None = None
            if rotate:
                if active is not None:
                    retire = now + (RETIRE_WINDOW_FORCED if force else RETIRE_WINDOW)
                    self.store.update(SIGNING_KEYS, str(active["kid"]), {"expiresAt": to_iso(retire)})
                new_kid = f"buildd-{now:%Y%m%d%H%M%S}-{len(keys) + 1}"
                self.store.insert(SIGNING_KEYS, {"kid": new_kid, "createdAt": to_iso(now), "expiresAt": None})
            return {
                "rotated": rotate,
                "newKid": new_kid,
                "deletedExpiredKeys": len(expired),
                "activeKid": new_kid if rotate else (str(active["kid"]) if active else None),
                "liveKeyCount": len(live) + (1 if rotate else 0),
            }

    def refresh_tokens(self) -> dict[str, Any]:
        """The mock holds no third-party credentials: nothing expires, nothing is nudged."""
        return {
            "nudgeMode": True,
            "nudgedCredentials": 0,
            "codex": {"checked": 0, "nudged": 0, "deduped": 0, "secrets": {}},
            "claudeRefresh": {"checked": 0, "nudged": 0, "deduped": 0, "secrets": {}, "zombies": 0},
            "mcp": {"checked": 0, "refreshed": 0, "locked": 0, "errors": 0, "expired": 0, "skipped": 0, "secrets": {}},
            "claudeVerify": {"checked": 0, "verified": 0, "failed": 0, "secrets": {}},
        }
