"""Knowledge ingest jobs, watched projects, the GitHub App and PRs: one domain call each."""

from __future__ import annotations

from typing import Any

from mockserver.domain.areas.know import Knowledge, WatchedProjects
from mockserver.domain.areas.know_github import GitHub
from mockserver.http.routes import Call, Reply, handles


def _knowledge(call: Call) -> Knowledge:
    return call.api.area(Knowledge)  # type: ignore[no-any-return]


def _watched(call: Call) -> WatchedProjects:
    return call.api.area(WatchedProjects)  # type: ignore[no-any-return]


def _github(call: Call) -> GitHub:
    return call.api.area(GitHub)  # type: ignore[no-any-return]


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


# -- knowledge ingest jobs -----------------------------------------------------------------------------------------


@handles("listIngestJobs")
def list_ingest_jobs(call: Call) -> Reply:
    return _knowledge(call).list_jobs(call.principal, call.query.get("workspaceId"))  # type: ignore[arg-type]


@handles("createIngestJob")
def create_ingest_job(call: Call) -> Reply:
    return _knowledge(call).enqueue(call.principal, _body(call))  # type: ignore[arg-type]


@handles("claimIngestJob")
def claim_ingest_job(call: Call) -> Reply:
    return _knowledge(call).claim(call.principal, _body(call))  # type: ignore[arg-type]


@handles("completeIngestJob")
def complete_ingest_job(call: Call) -> Reply:
    return _knowledge(call).complete(call.principal, call.path["id"], _body(call))  # type: ignore[arg-type]


@handles("uploadIngestJobFiles")
def upload_ingest_job_files(call: Call) -> Reply:
    return _knowledge(call).upload_files(call.principal, call.path["id"], _body(call))  # type: ignore[arg-type]


@handles("pushIngestJobGraph")
def push_ingest_job_graph(call: Call) -> Reply:
    return _knowledge(call).push_graph(call.principal, call.path["id"], _body(call))  # type: ignore[arg-type]


# -- watched projects (get and list are the generic layer's) -------------------------------------------------------


@handles("createWatchedProject")
def create_watched_project(call: Call) -> Reply:
    return _watched(call).create(call.principal, call.path["workspaceId"], _body(call))  # type: ignore[arg-type]


@handles("updateWatchedProject")
def update_watched_project(call: Call) -> Reply:
    return _watched(call).update(call.principal, call.path["watchedProjectId"], _body(call))  # type: ignore[arg-type]


@handles("deleteWatchedProject")
def delete_watched_project(call: Call) -> Reply:
    return _watched(call).delete(call.principal, call.path["watchedProjectId"])  # type: ignore[arg-type]


@handles("runWatchedProject")
def run_watched_project(call: Call) -> Reply:
    return _watched(call).run(call.principal, call.path["watchedProjectId"])  # type: ignore[arg-type]


# -- the GitHub App --------------------------------------------------------------------------------------------------


@handles("startGithubInstall")
def start_github_install(call: Call) -> Reply:
    location = _github(call).install_redirect(call.principal, call.query.get("returnUrl"))  # type: ignore[arg-type]
    return 302, None, {"Location": location}


@handles("completeGithubInstall")
def complete_github_install(call: Call) -> Reply:
    return 302, None, {"Location": _github(call).callback_redirect(call.principal, call.query)}  # type: ignore[arg-type]


@handles("listGithubInstallations")
def list_github_installations(call: Call) -> Reply:
    return _github(call).list_installations(call.principal)  # type: ignore[arg-type]


@handles("deleteGithubInstallation")
def delete_github_installation(call: Call) -> Reply:
    return _github(call).delete_installation(call.principal, call.path["id"])  # type: ignore[arg-type]


@handles("listGithubInstallationRepos")
def list_github_installation_repos(call: Call) -> Reply:
    return _github(call).list_installation_repos(call.principal, call.path["id"])  # type: ignore[arg-type]


@handles("syncGithubInstallationRepos")
def sync_github_installation_repos(call: Call) -> Reply:
    return _github(call).sync_installation_repos(call.principal, call.path["id"])  # type: ignore[arg-type]


@handles("getPullRequest")
def get_pull_request(call: Call) -> Reply:
    return _github(call).get_pr(call.principal, call.query)  # type: ignore[arg-type]


@handles("createPullRequest")
def create_pull_request(call: Call) -> Reply:
    return _github(call).create_pr(call.principal, _body(call))  # type: ignore[arg-type]


@handles("mergePullRequest")
def merge_pull_request(call: Call) -> Reply:
    return _github(call).merge_pr(call.principal, _body(call))  # type: ignore[arg-type]


@handles("closePullRequest")
def close_pull_request(call: Call) -> Reply:
    return _github(call).close_pr(call.principal, _body(call))  # type: ignore[arg-type]


@handles("receiveGithubWebhook")
def receive_github_webhook(call: Call) -> Reply:
    headers = {k.lower(): v for k, v in call.headers.items()}
    return _github(call).receive_webhook(call.raw_body, headers, call.body)


@handles("getEscalationInbox")
def get_escalation_inbox(call: Call) -> Reply:
    return _github(call).escalation_inbox(call.principal)  # type: ignore[arg-type]


@handles("mergeEscalatedPullRequest")
def merge_escalated_pull_request(call: Call) -> Reply:
    number = int(call.path["prNumber"])
    return _github(call).merge_escalated(call.principal, number, _body(call))  # type: ignore[arg-type]
