"""The pure rules behind mission and initiative views: progress and segments, goal-criteria verdicts, KPI
verdicts, tracker URLs. No store and no clock: callers pass records in, as the real server's helpers take rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = (
    "ACTIVE_TASK_STATUSES",
    "LIVE_WORKER_STATUSES",
    "criteria_state",
    "initiative_progress",
    "kpi_state",
    "mission_progress",
    "parse_linear_url",
)

ACTIVE_TASK_STATUSES = frozenset({"pending", "assigned", "in_progress"})
LIVE_WORKER_STATUSES = frozenset({"idle", "running", "starting", "waiting_input"})
_REVIEW_TITLES = ("Aggregate results:", "Evaluate mission completion:")
_LINEAR = re.compile(r"^https?://linear\.app/[^/]+/(project|issue)/([^/?#]+)")
_LINEAR_PROJECT_ID = re.compile(r"([0-9a-f]{12})$")


def _deliverable(task: Mapping[str, Any]) -> bool:
    """Work that counts towards progress: not planning, coordination or review bookkeeping."""
    if task.get("category") == "review" or task.get("kind") == "coordination" or task.get("mode") == "planning":
        return False
    return not str(task.get("title") or "").startswith(_REVIEW_TITLES)


def _segment_state(task: Mapping[str, Any], workers: Sequence[Mapping[str, Any]]) -> str:
    if any(w.get("status") in LIVE_WORKER_STATUSES for w in workers):
        return "ghost"
    if task.get("status") == "completed":
        pr = next((w for w in workers if w.get("prUrl")), None)
        return "solid" if pr is None or pr.get("mergedAt") else "half"
    return "notch" if task.get("status") == "failed" else "empty"


def mission_progress(
    tasks: Iterable[Mapping[str, Any]], workers_of: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, Any]:
    """`{totalTasks, completedTasks, progress, segments}` over the deliverable, non-cancelled tasks (a planning
    task counts when it opened a PR: in organizer-only missions the plan is the deliverable)."""
    countable = []
    for task in tasks:
        workers = workers_of.get(str(task["id"]), ())
        planned_pr = task.get("mode") == "planning" and any(w.get("prUrl") for w in workers)
        if (planned_pr or _deliverable(task)) and task.get("status") != "cancelled":
            countable.append((task, workers))
    completed = sum(1 for task, _ in countable if task.get("status") == "completed")
    total = len(countable)
    return {
        "totalTasks": total,
        "completedTasks": completed,
        "progress": round(completed * 100 / total) if total else 0,
        "segments": [{"taskId": task["id"], "state": _segment_state(task, workers)} for task, workers in countable],
    }


def initiative_progress(children: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The rollup of child missions (`status`, `totalTasks`, `completedTasks` each): task-weighted, falling back
    to mission-weighted when no mission has a countable task."""
    if not children:
        return {"totalMissions": 0, "completedMissions": 0, "totalTasks": 0, "completedTasks": 0, "progress": 0,
                "status": "empty"}  # fmt: skip
    total_tasks = sum(int(c["totalTasks"]) for c in children)
    done_tasks = sum(int(c["completedTasks"]) for c in children)
    done = sum(1 for c in children if c["status"] == "completed")
    statuses = {c["status"] for c in children}
    status = (
        "blocked"
        if "budget_exhausted" in statuses
        else "active"
        if "active" in statuses
        else "paused"
        if "paused" in statuses
        else "completed"
    )
    progress = round(done_tasks * 100 / total_tasks) if total_tasks else round(done * 100 / len(children))
    return {
        "totalMissions": len(children),
        "completedMissions": done,
        "totalTasks": total_tasks,
        "completedTasks": done_tasks,
        "progress": progress,
        "status": status,
    }


def _overall(verdicts: Sequence[str]) -> str:
    judged = [v for v in verdicts if v != "NOT_EVALUATED"]
    if not judged:
        return "UNVERIFIED"
    if "fail" in judged:
        return "fail"
    return "pass" if all(v == "pass" for v in judged) else "UNVERIFIED"


def criteria_state(
    criteria: Sequence[Mapping[str, Any]],
    *,
    tasks: Sequence[Mapping[str, Any]],
    workers: Sequence[Mapping[str, Any]],
    artifacts: Sequence[Mapping[str, Any]],
    evaluated_by: str,
    now: str,
) -> dict[str, Any]:
    """Structural criteria judged from state; the rest are `NOT_EVALUATED` (the real server asks an LLM)."""
    out = []
    for index, criterion in enumerate(criteria):
        kind = str(criterion.get("type"))
        verdict, evidence = "NOT_EVALUATED", "LLM evaluator not configured"
        if kind == "no_open_tasks":
            open_tasks = [t for t in tasks if t.get("status") in ACTIVE_TASK_STATUSES]
            verdict = "fail" if open_tasks else "pass"
            evidence = f"{len(open_tasks)} open task(s)"
        elif kind == "all_prs_merged":
            prs = [w for w in workers if w.get("prUrl")]
            unmerged = [w for w in prs if not w.get("mergedAt")]
            verdict = "UNVERIFIED" if not prs else "fail" if unmerged else "pass"
            evidence = f"{len(prs) - len(unmerged)}/{len(prs)} PR(s) merged"
        elif kind == "artifact_exists":
            key, wanted_type = criterion.get("key"), criterion.get("artifactType")
            found = [
                a
                for a in artifacts
                if (key is None or a.get("key") == key) and (wanted_type is None or a.get("type") == wanted_type)
            ]
            verdict = "pass" if found else "fail"
            evidence = f"{len(found)} matching artifact(s)"
        elif kind == "metric":
            verdict, evidence = "UNVERIFIED", "no metrics source"
        entry: dict[str, Any] = {"index": index, "type": kind, "verdict": verdict, "evidence": evidence}
        if isinstance(criterion.get("label"), str):
            entry["label"] = criterion["label"]
        out.append(entry)
    return {
        "evaluatedAt": now,
        "evaluatedBy": evaluated_by,
        "overall": _overall([c["verdict"] for c in out]),
        "criteria": out,
    }


def kpi_state(kpis: Sequence[Mapping[str, Any]], *, evaluated_by: str, now: str) -> dict[str, Any]:
    """Every KPI `UNVERIFIED`: the mock has no metrics source to observe a value from."""
    judged = [
        {"index": i, "name": str(k.get("name") or f"kpi {i}"), "verdict": "UNVERIFIED", "evidence": "no metrics source"}
        for i, k in enumerate(kpis)
    ]
    return {"evaluatedAt": now, "evaluatedBy": evaluated_by, "overall": "UNVERIFIED", "kpis": judged}


def parse_linear_url(url: str) -> tuple[str, str] | None:
    """(`project`|`issue`, external id) from a Linear URL; a project's id is the hex tail of its slug."""
    match = _LINEAR.match(url.strip())
    if match is None:
        return None
    kind, slug = match.group(1), match.group(2)
    if kind == "issue":
        return kind, slug.upper()
    tail = _LINEAR_PROJECT_ID.search(slug)
    return kind, tail.group(1) if tail else slug
