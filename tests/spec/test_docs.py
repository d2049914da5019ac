"""docs/deviations.md cites contract rule ids; every one not marked *(proposed)* must be a registered rule."""

from __future__ import annotations

import re

import contracts
from contracts.spec import DEFAULT_SPEC_PATH, load_spec

DOCS = DEFAULT_SPEC_PATH.parent / "docs"
SUITES = tuple(contracts.suite_names())
CITED = re.compile(r"`((?:" + "|".join(SUITES) + r")\.[a-z0-9{}*-]+)`( \*\(proposed\)\*)?")


def _registered() -> set[str]:
    # a suite that cannot be imported is a failure here, not a skip: the docs would cite rules nobody checks
    import contracts.checks  # noqa: F401  (registers the suites and their rules)
    from contracts.registry import RULES

    ids = {r.id for r in RULES}
    # templates spelled out by the spec's x-ownership rules (ownership.worker-403, ownership.task-unchanged, ...)
    for op in load_spec(DEFAULT_SPEC_PATH).api_operations():
        for rule in filter(None, (op.ownership, op.ownership and op.ownership.session)):
            templates = [t for t in ids if "{" in t]
            ids |= {t.replace("{resource}", rule.resource).replace("{status}", str(rule.status)) for t in templates}
    return ids


def test_deviations_cite_registered_rules() -> None:
    text = (DOCS / "deviations.md").read_text()
    cited = {(rule_id, bool(proposed)) for rule_id, proposed in CITED.findall(text)}
    assert cited, "no rule ids found in docs/deviations.md"
    registered = _registered()
    concrete = {rule_id for rule_id, proposed in cited if not proposed and "*" not in rule_id and "{" not in rule_id}
    unknown = sorted(concrete - registered)
    assert not unknown, f"docs/deviations.md cites unregistered rules (rename, or mark *(proposed)*): {unknown}"
    now_registered = sorted(rule_id for rule_id, proposed in cited if proposed and rule_id in registered)
    assert not now_registered, f"these *(proposed)* rules exist now; drop the mark: {now_registered}"


def test_deviations_cover_the_required_topics() -> None:
    text = (DOCS / "deviations.md").read_text()
    for words in (
        "invalid JSON", "Invalid API key", "Not authenticated", "401 instead of 403", "/activity", "instruct",
        "by-repo", "reassign", "/accounts", "POST /api/tasks", "cross-tenant", "in_progress", "task:completed",
        "worker:started", "cancelled", "Worker PATCH `status`", "Decimal strings", "anthropicApiKey", "oauthToken",
        "webhookConfig.token", "Workspace not found", "bearer", "Stale auth caches", "plaintext", "Development mode",
    ):  # fmt: skip
        assert words.lower() in text.lower(), words
    assert "docs/contracts.md" in text
