"""Webhooks and chat integrations: signed incoming deliveries that create tasks (the generic ingest hook, Linear,
Slack, Discord), and the workspace's outgoing webhook, whose deliveries the mock records instead of sending
(issue #14, area `ext`).

Every signature is checked over the raw body with the mock's deterministic secrets (`ext_keys`); an unsigned or
badly signed delivery changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from mockserver.domain import access
from mockserver.domain._base import Ops
from mockserver.domain._indexes import register_group_index
from mockserver.domain.area import Area
from mockserver.domain.areas.ext_keys import (
    DISCORD_PRIVATE_HEX,
    SLACK_SIGNING_SECRET,
    discord_public_hex,
    verify_discord,
    webhook_secret,
)
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden, NotFound, Unauthorized
from mockserver.domain.records import new_task, normalise_repo
from mockserver.domain.runtime import epoch_ms, to_iso
from mockserver.domain.store import Record, register_table

__all__ = ("Webhooks", "dispatch_new_task", "record_delivery")

register_table("workspaceWebhooks", "workspaceId")
register_table("workspaceSlack", "workspaceId")
register_table("webhookDeliveries", "id")
register_group_index("webhookDeliveries", "workspace", "workspaceId")
register_table("externalLinks", "key")  # (provider, external id) -> the task it created

LINEAR_MAX_SKEW_MS = 60_000
SLACK_MAX_SKEW_S = 300
TERMINAL_TASK = frozenset({"completed", "failed", "cancelled"})
CLOSED_LINEAR_STATES = frozenset({"completed", "canceled"})


class Unsigned(Unauthorized):
    """A delivery whose signature does not verify."""

    default_message = "Invalid signature"


class Webhooks(Area):
    # -- secrets (the control API shows them so tests and frontends can sign) ------------------------------------

    @staticmethod
    def secrets(workspace_id: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "slackSigningSecret": SLACK_SIGNING_SECRET,
            "discordPublicKey": discord_public_hex(),
            "discordPrivateKey": DISCORD_PRIVATE_HEX,
        }
        if workspace_id:
            out.update(
                workspaceId=workspace_id,
                linear=webhook_secret("linear", workspace_id),
                ingest=webhook_secret("ingest", workspace_id),
            )
        return out

    # -- the outgoing webhook -----------------------------------------------------------------------------------

    def save_webhook(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            config: dict[str, Any] | None = None
            if body.get("url"):
                config = {"url": body["url"], "token": body.get("token") or "", "enabled": bool(body.get("enabled"))}
                if body.get("runnerPreference"):
                    config["runnerPreference"] = body["runnerPreference"]
                self.store.upsert("workspaceWebhooks", {"workspaceId": workspace_id, **config})
            else:
                self.store.delete("workspaceWebhooks", workspace_id)
            return {"success": True, "webhookConfig": config}

    def test_webhook(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            url = body.get("url")
            if not url:
                raise BadRequest("URL is required")
            self._record_delivery(
                workspace_id,
                "test",
                str(url).replace("/hooks/agent", "/hooks/wake"),
                body.get("token"),
                {"text": "Buildd webhook test - connection verified", "mode": "next-heartbeat"},
            )
        return {"message": "Connection successful"}

    def _record_delivery(self, workspace_id: str, event: str, url: str, token: Any, payload: dict[str, Any]) -> None:
        record_delivery(self, workspace_id, event, url, token, payload)

    def deliveries(self, workspace_id: str | None, limit: int | None) -> dict[str, Any]:
        with self.store.transaction():
            rows = (
                self.store.find("webhookDeliveries", "workspace", workspace_id)
                if workspace_id
                else list(self.store.rows("webhookDeliveries"))
            )
            rows = sorted(rows, key=lambda r: str(r["createdAt"]))
            return self._out({"deliveries": rows[-limit:] if limit else rows})

    # -- new tasks from outside ---------------------------------------------------------------------------------

    def _create_task(self, workspace: Record, fields: dict[str, Any]) -> Record:
        """A pending task as an incoming hook makes it, announced (and dispatched) like any new task."""
        task = new_task(id=self.ids.uuid4(), workspace_id=str(workspace["id"]), fields=fields, now=self._now())
        for extra in ("externalId", "externalUrl", "taskClass"):
            if fields.get(extra) is not None:
                task[extra] = fields[extra]
        self.store.insert("tasks", task)
        self._announce_new_task(task)
        return task

    # -- the generic ingest hook --------------------------------------------------------------------------------

    def ingest(
        self, principal: Principal, event: str | None, signature: str | None, raw: bytes, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        if not event:
            raise BadRequest("Missing x-webhook-event header")
        project = body.get("project") or {}
        repo = project.get("repo") if isinstance(project, dict) else None
        if not repo:
            raise BadRequest("project.repo is required")
        with self.store.transaction():
            workspace = self._workspace_by_repo(str(repo))
            if workspace is None:
                raise NotFound.of("Workspace")  # the real text: "No workspace found for repo: <repo>"
            secret = webhook_secret("ingest", str(workspace["id"]))
            if not _signed(secret, raw, signature.removeprefix("sha256=") if signature else None):
                # the key is valid, the delivery is not: 403 (the real route says 401)
                raise Forbidden("Invalid webhook signature")
            issue = body["issue"]
            external_id = f"webhook-{issue['id']}"
            if event == "issue.created":
                return self._ingest_created(workspace, issue, project, external_id)
            changes: dict[str, Any] | None = {
                "issue.closed": {"status": "completed"},
                "issue.reopened": {"status": "pending"},
                "issue.updated": {"title": issue["title"], "description": issue.get("body") or ""},
            }.get(event)
            if changes is None:
                return {"ok": True, "skipped": f"unhandled event: {event}"}
            link = self.store.get("externalLinks", f"webhook|{external_id}")
            task = self.store.get("tasks", str(link["taskId"])) if link else None
            if task is not None:
                self.store.update("tasks", str(task["id"]), {**changes, "updatedAt": self._now()})
            return {"ok": True}

    def _ingest_created(
        self, workspace: Record, issue: Mapping[str, Any], project: Mapping[str, Any], external_id: str
    ) -> dict[str, Any]:
        labels = [str(label).lower() for label in issue.get("labels") or []]
        label_filter: list[str] = []  # the real route reads it from the workspace's config, empty by default
        if label_filter and not any(f.lower() in labels for f in label_filter):
            return {"ok": True, "skipped": "no matching label"}
        if self.store.get("externalLinks", f"webhook|{external_id}") is not None:
            return {"ok": True, "taskId": None}  # ON CONFLICT DO NOTHING: the issue already has its task
        task = self._create_task(
            workspace,
            {
                "title": issue["title"],
                "description": issue.get("body") or "",
                "creationSource": "webhook",
                "externalId": external_id,
                "externalUrl": issue.get("url"),
                "taskClass": "work",
                "context": {
                    "webhook": {
                        "issueId": issue["id"],
                        "projectId": project.get("id"),
                        "projectName": project.get("name"),
                        "repo": project.get("repo"),
                    }
                },
            },
        )
        self.store.insert("externalLinks", {"key": f"webhook|{external_id}", "taskId": task["id"]})
        return {"ok": True, "taskId": task["id"]}

    def _workspace_by_repo(self, repo: str) -> Record | None:
        """Exact repo, then a repo ending in `/<repo>`, then a workspace named `repo` (the real resolver's order)."""
        wanted = normalise_repo(repo).lower()
        workspaces = sorted(self.store.rows("workspaces"), key=lambda w: str(w["id"]))
        matchers: tuple[Callable[[Record], bool], ...] = (
            lambda w: (w.get("repo") or "").lower() == wanted,
            lambda w: (w.get("repo") or "").lower().endswith("/" + wanted.split("/")[-1]),
            lambda w: str(w["name"]).lower() == wanted.split("/")[-1],
        )
        for match in matchers:
            found = next((w for w in workspaces if match(w)), None)
            if found is not None:
                return found
        return None

    # -- Linear -------------------------------------------------------------------------------------------------

    def linear(self, workspace_id: str, signature: str | None, raw: bytes, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            workspace = self.store.get("workspaces", workspace_id)
            if workspace is None:
                raise NotFound.of("Workspace")  # the real text: "Unknown workspace"
            if not _signed(webhook_secret("linear", workspace_id), raw, signature):
                raise Unsigned()
            stamp = body.get("webhookTimestamp")
            now_ms = epoch_ms(self.clock.now())
            if (
                isinstance(stamp, (int, float))
                and not isinstance(stamp, bool)
                and abs(now_ms - stamp) > LINEAR_MAX_SKEW_MS
            ):
                raise Unauthorized("Stale delivery")
            tracker = workspace.get("workTrackerConfig")
            if isinstance(tracker, dict) and tracker.get("provider") not in (None, "linear"):
                return {"ok": True, "action": "ignored", "reason": "provider"}
            label = str((tracker or {}).get("inboundLabel") or "buildd") if isinstance(tracker, dict) else "buildd"
            return self._linear_event(workspace, body, label)

    def _linear_event(self, workspace: Record, payload: Mapping[str, Any], label: str) -> dict[str, Any]:
        data = payload.get("data")
        if payload.get("type") != "Issue" or not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return {"ok": True, "action": "ignored"}
        issue_id = data["id"]
        url = data.get("url") if isinstance(data.get("url"), str) else None
        title = data.get("title") or data.get("identifier") or "Untitled Linear issue"
        state = data.get("state")
        closed = payload.get("action") == "remove" or (
            isinstance(state, dict) and state.get("type") in CLOSED_LINEAR_STATES
        )
        link = self.store.get("externalLinks", f"linear|{issue_id}")
        if closed:
            if link is None:
                return {"ok": True, "action": "ignored"}
            task = self.store.get("tasks", str(link["taskId"]))
            if task is None or task["status"] in TERMINAL_TASK:
                return {"ok": True, "action": "noop", "taskId": link["taskId"]}
            self.store.update("tasks", str(task["id"]), {"status": "cancelled", "updatedAt": self._now()})
            return {"ok": True, "action": "cancelled", "taskId": task["id"]}
        if payload.get("action") not in ("create", "update") or label.lower() not in _label_names(data):
            return {"ok": True, "action": "ignored"}
        if link is not None:
            return {"ok": True, "action": "exists", "taskId": link["taskId"]}
        task = self._create_task(
            workspace,
            {
                "title": str(title),
                "description": f"Imported from Linear: {url}" if url else None,
                "creationSource": "webhook",
                "externalId": issue_id,
                "externalUrl": url,
                "taskClass": "work",
            },
        )
        self.store.insert("externalLinks", {"key": f"linear|{issue_id}", "taskId": task["id"]})
        return {"ok": True, "action": "created", "taskId": task["id"]}

    # -- Slack --------------------------------------------------------------------------------------------------

    def slack_config(self, principal: Principal, workspace_id: str) -> dict[str, Any]:
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            return {"slackConfig": _safe_slack(self.store.get("workspaceSlack", workspace_id))}

    def update_slack_config(self, principal: Principal, workspace_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            access.workspace_for(self.store, principal, workspace_id)
            current = self.store.get("workspaceSlack", workspace_id) or {}
            config = {
                "workspaceId": workspace_id,
                **{k: body[k] if k in body else current.get(k) for k in ("teamId", "channelId", "botToken", "enabled")},
            }
            self.store.upsert("workspaceSlack", config)
            return {"success": True, "slackConfig": _safe_slack(config)}

    def slack(self, headers: Mapping[str, str], raw: bytes, body: Mapping[str, Any], is_form: bool) -> dict[str, Any]:
        verified = self._slack_verified(headers, raw)
        if is_form:
            if not verified:
                raise Unsigned()
            return self._slack_command(body)
        if body.get("type") == "url_verification":
            return {"challenge": str(body.get("challenge") or "")}
        if not verified:
            raise Unsigned()
        event = body.get("event")
        if body.get("type") == "event_callback" and isinstance(event, dict) and event.get("thread_ts"):
            self._slack_thread_message(str(body.get("team_id") or ""), event)
        return {"ok": True}

    def _slack_verified(self, headers: Mapping[str, str], raw: bytes) -> bool:
        stamp, signature = headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
        if not stamp or not signature:
            return False
        try:
            skew = abs(self.clock.now().timestamp() - float(stamp))
        except ValueError:
            return False
        if skew > SLACK_MAX_SKEW_S:
            return False
        expected = "v0=" + _hmac_hex(SLACK_SIGNING_SECRET, f"v0:{stamp}:".encode() + raw)
        return hmac.compare_digest(signature, expected)

    def _slack_workspace(self, team_id: str) -> Record | None:
        if not team_id:
            return None
        for config in sorted(self.store.rows("workspaceSlack"), key=lambda c: str(c["workspaceId"])):
            if config.get("teamId") == team_id and config.get("enabled") is not False:
                return self.store.get("workspaces", str(config["workspaceId"]))
        return None

    def _slack_command(self, form: Mapping[str, Any]) -> dict[str, Any]:
        text = str(form.get("text") or "").strip()
        if not text:
            return {"response_type": "ephemeral", "text": "Usage: /buildd <task description>"}
        team_id, user_id = str(form.get("team_id") or ""), str(form.get("user_id") or "")
        user_name = str(form.get("user_name") or "slack-user")
        with self.store.transaction():
            workspace = self._slack_workspace(team_id)
            if workspace is None:
                return {
                    "response_type": "ephemeral",
                    "text": "No workspace is linked to this Slack team. Configure Slack integration in your "
                    "buildd workspace settings.",
                }
            self._create_task(
                workspace,
                {
                    "title": text,
                    "description": f"Created via Slack by @{user_name}",
                    "mode": "planning",
                    "taskClass": "bookkeeping",
                    "creationSource": "api",
                    "context": {"slack": {"teamId": team_id, "userId": user_id, "userName": user_name}},
                },
            )
        return {
            "response_type": "ephemeral",
            "text": f'Task created: "{text}" -- I\'ll notify you when the plan is ready.',
        }

    def _slack_thread_message(self, team_id: str, event: Mapping[str, Any]) -> None:
        text = event.get("text")
        if not text:
            return
        with self.store.transaction():
            workspace = self._slack_workspace(team_id)
            if workspace is None:
                return
            for task in self.store.find("tasks", "workspace", str(workspace["id"])):
                slack = (task.get("context") or {}).get("slack") or {}
                if slack.get("threadTs") == event.get("thread_ts"):
                    context = dict(task.get("context") or {})
                    context["slackMessages"] = [*context.get("slackMessages", []), text]
                    self.store.update("tasks", str(task["id"]), {"context": context, "updatedAt": self._now()})
                    return

    # -- Discord ------------------------------------------------------------------------------------------------

    def discord(self, headers: Mapping[str, str], raw: bytes, body: Mapping[str, Any]) -> dict[str, Any]:
        if not verify_discord(headers.get("x-signature-ed25519"), headers.get("x-signature-timestamp"), raw):
            raise Unsigned()
        kind = body.get("type")
        if kind == 1:
            return {"type": 1}
        if kind == 2:
            return self._discord_command(body)
        if kind == 3:
            return {"type": 6}  # a component interaction: acknowledged, nothing to update
        raise BadRequest("Unknown interaction type")

    def _discord_command(self, interaction: Mapping[str, Any]) -> dict[str, Any]:
        data = interaction.get("data") or {}
        if data.get("name") != "buildd":
            return _discord_say("Unknown command.")
        goal = next((o.get("value") for o in data.get("options") or [] if o.get("name") == "goal"), None)
        if not goal:
            return _discord_say("Please provide a goal. Usage: `/buildd <goal>`")
        guild = interaction.get("guild_id")
        if not guild:
            return _discord_say("This command can only be used in a server.")
        with self.store.transaction():
            workspace = next(
                (
                    w
                    for w in sorted(self.store.rows("workspaces"), key=lambda w: str(w["id"]))
                    if (w.get("discordConfig") or {}).get("guildId") == guild
                ),
                None,
            )
            if workspace is None:
                return _discord_say(
                    "No buildd workspace is linked to this Discord server. Configure Discord integration in your "
                    "workspace settings."
                )
            task = self._create_task(
                workspace,
                {
                    "title": str(goal)[:200],
                    "description": str(goal),
                    "mode": "planning",
                    "creationSource": "api",
                    "context": {"discord": {"guildId": guild}},
                },
            )
        return {"type": 4, "data": {"content": f"Task created: **{task['title']}**"}}


def _signed(secret: str, raw: bytes, signature: str | None) -> bool:
    """Whether `signature` is the hex HMAC-SHA256 of the raw body with `secret` (compared in constant time)."""
    if not signature:
        return False
    return hmac.compare_digest(signature.strip().lower(), _hmac_hex(secret, raw))


def _hmac_hex(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def _label_names(data: Mapping[str, Any]) -> set[str]:
    names: list[Any] = []
    labels = data.get("labels")
    if isinstance(labels, list):
        names += [label if isinstance(label, str) else (label or {}).get("name") for label in labels]
    if isinstance(labels, dict) and isinstance(labels.get("nodes"), list):
        names += [(node or {}).get("name") for node in labels["nodes"]]
    if isinstance(data.get("label"), dict):
        names.append(data["label"].get("name"))
    return {n.lower() for n in names if isinstance(n, str)}


def _safe_slack(config: Mapping[str, Any] | None) -> dict[str, Any]:
    config = config or {}
    return {
        "teamId": config.get("teamId") or "",
        "channelId": config.get("channelId") or "",
        "hasBotToken": bool(config.get("botToken")),
        "enabled": bool(config.get("enabled") or False),
    }


def _discord_say(text: str) -> dict[str, Any]:
    return {"type": 4, "data": {"content": text, "flags": 64}}


# -- the outgoing webhook, for every new task ---------------------------------------------------------------------


def record_delivery(ops: Ops, workspace_id: str, event: str, url: str, token: Any, payload: dict[str, Any]) -> None:
    """An outgoing delivery, recorded instead of sent (read back through `GET /__mock/webhook-deliveries`)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    ops.store.insert(
        "webhookDeliveries",
        {
            "id": ops.ids.uuid4(),
            "workspaceId": workspace_id,
            "event": event,
            "url": url,
            "headers": headers,
            "body": payload,
            "createdAt": to_iso(ops.clock.now()),
        },
    )


def dispatch_new_task(ops: Ops, task: Record) -> None:
    """The webhook half of the real `dispatchNewTask`, which every way of making a task calls (the API, schedules,
    follow-ups, incoming hooks): when the workspace's webhook is enabled and its runner preference fits, the task
    goes to it (recorded, never sent)."""
    workspace_id = str(task["workspaceId"])
    hook = ops.store.get("workspaceWebhooks", workspace_id)
    if not hook or not hook.get("enabled") or not hook.get("url"):
        return
    if hook.get("runnerPreference") not in (None, "any", task.get("runnerPreference") or "any"):
        return
    message = (
        f"Work on Buildd task: {task['title']}\n\n{task.get('description') or 'No description provided.'}"
        f"\n\n---\nTask ID: {task['id']}\nReport progress: POST {ops.settings.base_url}/api/workers/{{workerId}}"
    )
    payload = {"message": message, "sessionKey": f"buildd-{task['id']}", "name": "buildd"}
    record_delivery(ops, workspace_id, "task.created", str(hook["url"]), hook.get("token"), payload)
