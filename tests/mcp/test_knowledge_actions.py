"""`list_artifact_templates`, `spec_compare` and `consolidate_knowledge`: the three actions the real server answers
without a REST route (the spec's template catalogue; the domain's KnowledgeStore), through the official client."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import jsonschema
import pytest

from contracts.spec import load_spec
from mockserver.mcp.actions import ACTIONS
from tests.mcp.conftest import call, data, error_text, mcp_session

pytestmark = pytest.mark.http

ADMIN_KNOWLEDGE = {"spec_compare", "consolidate_knowledge"}
SPEC_DOC = (
    "# Objectives\n\nObjectives group missions. The objectives list is served by `/api/objectives` and "
    "computed in packages/core/objectives.ts by listObjectives.\n"
)
CODE_FILE = "export function listObjectives(teamId: string) {\n  return db.select().from(objectives);\n}\n"
OTHER_CODE = "export const retryBackoff = (attempt: number) => 2 ** attempt;\n"


def _workspace(world: dict[str, Any], name: str) -> str:
    return str(next(w["id"] for w in world["workspaces"] if w["name"] == name))


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _ingest(base_url: str, admin_key: str, workspace: str, repo: str, files: list[dict[str, str]]) -> None:
    """One full ingest job over REST, as a runner runs it: enqueue, claim, upload the files, complete."""
    auth = _auth(admin_key)
    queued = httpx.post(f"{base_url}/api/knowledge/ingest-jobs", json={"workspaceId": workspace}, headers=auth)
    assert queued.status_code == 201, queued.text
    job = httpx.post(f"{base_url}/api/knowledge/ingest-jobs/claim", json={"repos": [repo]}, headers=auth).json()["job"]
    uploaded = httpx.post(
        f"{base_url}/api/knowledge/ingest-jobs/{job['id']}/files", json={"files": files}, headers=auth
    )
    assert uploaded.status_code == 200 and uploaded.json()["filesIngested"] == len(files), uploaded.text
    done = httpx.post(
        f"{base_url}/api/knowledge/ingest-jobs/{job['id']}/complete", json={"status": "done"}, headers=auth
    )
    assert done.status_code == 200, done.text


# -- list_artifact_templates ---------------------------------------------------------------------------------------


def test_the_template_catalogue_is_the_spec_one_and_each_template_is_creatable() -> None:
    spec = load_spec()
    catalogue = spec.raw["x-artifact-templates"]
    artifact_types = spec.raw["components"]["schemas"]["ArtifactType"]["enum"]
    assert list(catalogue) == ["research_report", "decision_recommendation", "content_draft", "monitoring_alert"]
    for name, template in catalogue.items():
        assert template["type"] in artifact_types, name
        assert template["description"], name
        jsonschema.Draft202012Validator.check_schema(template["schema"])


def test_list_artifact_templates_lists_the_catalogue_for_a_trigger_key(
    base_url: str, fixture_keys: dict[str, str]
) -> None:
    async def listed() -> Any:
        async with mcp_session(base_url, fixture_keys["acme-trigger"]) as s:
            return await call(s, "list_artifact_templates")

    result = anyio.run(listed)
    catalogue = load_spec().raw["x-artifact-templates"]
    assert data(result) == {"templates": catalogue}
    text = result.content[0].text
    assert text.startswith("Available artifact templates:\n\n## research_report\n**Type:** report\n")
    assert '"required": [\n    "findings",\n    "summary"\n  ]' in text  # JSON.stringify(schema, null, 2)
    assert text.count("\n\n---\n\n") == len(catalogue) - 1
    assert text.endswith("Use create_artifact with matching type and structured content following the schema.")


# -- spec_compare ----------------------------------------------------------------------------------------------------


def test_spec_compare_finds_the_code_the_spec_names_and_the_feature_the_code_lacks(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    web = _workspace(fixture_world, "acme-web")
    files = [
        {"path": "docs/objectives.md", "content": SPEC_DOC},
        {"path": "packages/core/objectives.ts", "content": CODE_FILE},
        {"path": "packages/core/retry.ts", "content": OTHER_CODE},
    ]
    _ingest(base_url, fixture_keys["acme-admin"], web, "acme/web", files)

    async def compare() -> tuple[Any, Any, Any]:
        async with mcp_session(base_url, fixture_keys["acme-admin"], f"?workspace={web}") as s:
            return (
                await call(s, "spec_compare", feature="objectives"),
                await call(s, "spec_compare", query="webhooks delivery"),
                await call(s, "spec_compare", feature="objectives", topK=50),
            )

    found, missing, capped = anyio.run(compare)
    body = data(found)
    assert [h["sourceId"] for h in body["spec"]] == ["docs/objectives.md"]
    # the spec names its implementation: the bridge terms reach the code chunk, and only that one
    assert {"/api/objectives", "packages/core/objectives.ts", "listObjectives"} <= set(body["anchors"])
    assert [h["sourceId"] for h in body["code"]] == ["packages/core/objectives.ts"]
    text = found.content[0].text
    assert text.startswith('# spec_compare: "objectives"\n\n**Spec→Code bridges** (')
    assert "## CODE evidence (what is actually implemented)\n1. [" in text and "] packages/core/objectives.ts\n" in text
    assert (
        "## SPEC evidence (what the spec/docs claim)\n1. [1.000] docs/objectives.md\n   # Objectives Objectives" in text
    )
    assert text.endswith("The verdict is yours, not the scores'.")
    # a feature neither side holds: no anchors, no evidence, the inconclusive notice
    assert data(missing)["spec"] == [] and data(missing)["code"] == []
    assert "**No implementation anchors found in SPEC**" in missing.content[0].text
    assert "(retrieval inconclusive" in missing.content[0].text
    assert data(capped) == body  # topK is capped at 20; the same call answers the same


def test_spec_compare_refusals(base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]) -> None:
    web, vault = _workspace(fixture_world, "acme-web"), _workspace(fixture_world, "globex-vault")

    async def attempt() -> tuple[Any, Any, Any]:
        async with mcp_session(base_url, fixture_keys["acme-admin"]) as s:
            no_feature = await call(s, "spec_compare", workspaceId=web)
            no_workspace = await call(s, "spec_compare", feature="objectives")
        async with mcp_session(base_url, fixture_keys["acme-admin"], f"?workspace={vault}") as s:
            other_team = await call(s, "spec_compare", feature="objectives")
        return no_feature, no_workspace, other_team

    no_feature, no_workspace, other_team = anyio.run(attempt)
    assert error_text(no_feature) == "Error: feature (or query) is required"
    assert "workspaceId is required for spec_compare — connect with ?workspace=<id>" in error_text(no_workspace)
    assert other_team.structured_content == {"status": 404, "body": {"error": "Workspace not found"}}


# -- consolidate_knowledge -------------------------------------------------------------------------------------------


def test_consolidation_finds_duplicates_archives_one_and_answers_the_same_twice(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    web = _workspace(fixture_world, "acme-web")
    lesson = "The staging deploy needs the VERCEL_TOKEN secret before the release workflow runs."

    async def flow() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={web}") as s:
            first = data(await s.call_tool("learn", {"type": "gotcha", "title": "Staging deploy", "content": lesson}))
            again = data(await s.call_tool("learn", {"type": "gotcha", "title": "Staging deploy", "content": lesson}))
            data(await s.call_tool("learn", {"type": "pattern", "title": "Retries", "content": "Back off 2^n."}))
            out["ids"] = sorted([first["memory"]["id"], again["memory"]["id"]])
        async with mcp_session(base_url, fixture_keys["acme-admin"], f"?workspace={web}") as s:
            out["found"] = await call(s, "consolidate_knowledge", op="find_duplicates", corpora=["memory"])
            out["found_again"] = await call(s, "consolidate_knowledge", op="find_duplicates", corpora=["memory"])
            loser = out["ids"][1]
            out["archived"] = await call(
                s, "consolidate_knowledge", op="archive", corpus="memory", sourceIds=[loser, loser, "nope"]
            )
            out["archived_again"] = await call(
                s, "consolidate_knowledge", op="archive", corpus="memory", sourceIds=[loser]
            )
            out["after"] = await call(s, "consolidate_knowledge", op="find_duplicates", corpora=["memory"])
            out["recall"] = data(await s.call_tool("recall", {"query": "staging deploy"}))
            out["by_id"] = await s.call_tool("recall", {"id": out["ids"][1]})
        return out

    out = anyio.run(flow)
    pairs = data(out["found"])["pairs"]
    assert [(p["sourceIdA"], p["sourceIdB"]) for p in pairs] == [tuple(out["ids"])]
    assert pairs[0]["similarity"] == 1.0 and pairs[0]["previewA"].startswith("Staging deploy")
    text = out["found"].content[0].text
    assert text.startswith("Found 1 near-duplicate pair(s). Judge each pair before merging")
    assert f"### 1. similarity 1.000 ({pairs[0]['namespace']})\n- A: {out['ids'][0]} (hits: 0, ts: " in text
    assert pairs[0]["namespace"].endswith(":memory")
    assert out["found_again"].content[0].text == text  # deterministic
    archived = data(out["archived"])
    assert archived == {"namespace": pairs[0]["namespace"], "archived": 1, "sourceIds": [out["ids"][1]]}
    assert out["archived"].content[0].text == (
        f"Archived 1 of 3 chunk(s) in {archived['namespace']} (is_current=false — recoverable, nothing deleted).\n"
        f"- {out['ids'][1]}"
    )
    assert data(out["archived_again"])["archived"] == 0  # only current chunks are archived
    assert out["after"].content[0].text == f"No near-duplicate pairs found (namespaces: {archived['namespace']})."
    # recall drops the archived memory (no longer current), but nothing is deleted: it is still fetched by id, and
    # the archive is a row of `knowledgeArchive`
    recalled = {m["id"] for m in out["recall"]["memories"]}
    assert out["ids"][0] in recalled and out["ids"][1] not in recalled
    assert out["by_id"].content[0].text.startswith("# Staging deploy")
    state = httpx.get(f"{base_url}/__mock/state").json()
    assert [(r["namespace"], r["sourceId"], r["reason"]) for r in state["knowledgeArchive"]] == [
        (archived["namespace"], out["ids"][1], "archived:consolidation")
    ]


def test_find_decayed_follows_the_mock_clock(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    web = _workspace(fixture_world, "acme-web")
    admin = fixture_keys["acme-admin"]

    async def decayed() -> Any:
        async with mcp_session(base_url, admin, f"?workspace={web}") as s:
            return await call(s, "consolidate_knowledge", op="find_decayed")

    async def fresh_artifact() -> str:
        async with mcp_session(base_url, fixture_keys["acme-ci"], f"?workspace={web}") as s:
            wid = data(await call(s, "claim_task"))["workers"][0]["id"]
            made = data(await call(s, "create_artifact", workerId=wid, type="report", title="Fresh", content="new"))
            return f"artifact:{made['artifact']['id']}"

    fresh = anyio.run(fresh_artifact)
    before = data(anyio.run(decayed))
    assert fresh not in {c["sourceId"] for c in before["chunks"]}
    assert before["namespaces"] == [f"{web}:task", f"{web}:artifact"]
    moved = httpx.post(f"{base_url}/__mock/clock", json={"advanceSeconds": 181 * 86400})  # > 6 x 30 days
    assert moved.status_code == 200, moved.text
    result = anyio.run(decayed)
    after = data(result)["chunks"]
    assert fresh in {c["sourceId"] for c in after}
    stamps = [c["sourceTs"] for c in after]
    assert stamps == sorted(stamps) and all(c["hitCount"] == 0 for c in after)  # oldest first
    assert result.content[0].text.startswith(f"Found {len(after)} decayed zero-hit chunk(s). Sanity-check previews")


def test_consolidate_knowledge_refusals(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    vault = _workspace(fixture_world, "globex-vault")

    async def attempt() -> list[Any]:
        async with mcp_session(base_url, fixture_keys["acme-admin"]) as s:
            results = [
                await call(s, "consolidate_knowledge"),
                await call(s, "consolidate_knowledge", op="archive", sourceIds=["a"]),
                await call(s, "consolidate_knowledge", op="archive", corpus="task", sourceIds=[]),
                await call(s, "consolidate_knowledge", op="find_decayed"),  # task + artifact need a workspace
                await call(s, "consolidate_knowledge", op="archive", corpus="task", sourceIds=["task:x"]),
                await call(s, "consolidate_knowledge", op="find_duplicates", workspaceId=vault),
            ]
        return results

    no_op, no_corpus, no_ids, no_namespace, no_workspace, other_team = anyio.run(attempt)
    assert error_text(no_op) == "Error: op is required and must be one of: find_duplicates, find_decayed, archive"
    assert error_text(no_corpus) == "Error: corpus is required for op=archive"
    assert error_text(no_ids) == "Error: sourceIds (non-empty string[]) is required for op=archive"
    assert error_text(no_namespace) == (
        "Error: No namespace resolvable for corpora [task, artifact] — memory needs teamId, other corpora need "
        "workspaceId"
    )
    assert error_text(no_workspace) == "Error: workspaceId required to archive chunks"
    assert other_team.structured_content == {"status": 404, "body": {"error": "Workspace not found"}}


# -- levels ----------------------------------------------------------------------------------------------------------


def test_the_knowledge_actions_are_admin_and_the_catalogue_is_for_every_level(
    base_url: str, fixture_keys: dict[str, str]
) -> None:
    assert {ACTIONS[name].level for name in ADMIN_KNOWLEDGE} == {"admin"}
    assert ACTIONS["list_artifact_templates"].level == "trigger"

    async def seen(account: str) -> tuple[set[str], Any]:
        async with mcp_session(base_url, fixture_keys[account]) as s:
            buildd = next(t for t in (await s.list_tools()).tools if t.name == "buildd")
            refused = await call(
                s, "consolidate_knowledge", op="archive", corpus="memory", sourceIds=[str(uuid.uuid4())]
            )
            return set(buildd.input_schema["properties"]["action"]["enum"]), refused

    for account in ("acme-trigger", "acme-ci"):
        listed, refused = anyio.run(seen, account)
        assert "list_artifact_templates" in listed and not ADMIN_KNOWLEDGE & listed, account
        assert '"requiredLevel": "admin"' in error_text(refused)
    listed, _ = anyio.run(seen, "acme-admin")
    assert ADMIN_KNOWLEDGE | {"list_artifact_templates"} <= listed


# -- recall on the work-product corpora ------------------------------------------------------------------------------


def test_recall_searches_task_outcomes_and_ingested_code_for_any_key_level(
    base_url: str, fixture_keys: dict[str, str], fixture_world: dict[str, Any]
) -> None:
    web = _workspace(fixture_world, "acme-web")
    seeded = next(t for t in fixture_world["tasks"] if t["title"] == "Set up CI pipeline for web")

    async def recall(key: str, **args: Any) -> Any:
        async with mcp_session(base_url, key, f"?workspace={web}") as s:
            return await s.call_tool("recall", {"query": "CI pipeline", **args})

    task = anyio.run(lambda: recall(fixture_keys["acme-ci"], scope="task"))
    no_docs = anyio.run(lambda: recall(fixture_keys["acme-ci"], scope="docs"))
    no_artifact = anyio.run(lambda: recall(fixture_keys["acme-ci"], scope="artifact", query="zzyzx"))
    _ingest(
        base_url, fixture_keys["acme-admin"], web, "acme/web", [{"path": "src/objectives.ts", "content": CODE_FILE}]
    )
    code = anyio.run(lambda: recall(fixture_keys["acme-ci"], scope="code", query="listObjectives teamId"))

    hits = data(task)["results"]
    assert hits[0]["sourceId"] == f"task:{seeded['id']}" and hits[0]["sourceType"] == "task"
    assert task.content[0].text.startswith(f"Found {len(hits)} result(s):\n\n### 1. task\n**Score:** 1.0000\n\n")
    assert no_docs.content[0].text.startswith("No docs index found. Run ingestion first")
    assert no_artifact.content[0].text == 'No knowledge found for: "zzyzx"'
    assert [h["sourcePath"] for h in data(code)["results"]] == ["src/objectives.ts"]
