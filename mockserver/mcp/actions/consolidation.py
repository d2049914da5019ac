"""`spec_compare` and `consolidate_knowledge` (admin): the real tool's knowledge-store actions.

The real server has no REST route for either (its MCP handlers query its vector store), so these call the domain's
`KnowledgeStore` through `ActionContext.local` (see the package docstring and mockserver/domain/areas/know_store.py
for what the mock's store holds). Params, refusals and result texts are the real tool's; the workspace is the
connection's `?workspace=` (or `workspaceId` in params, as for the other actions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.mcp.actions import ActionContext, ActionInputError, Api, Outcome, _workspace_id, action

__all__ = ()

CONSOLIDATE_OPS = ("find_duplicates", "find_decayed", "archive")
DEFAULT_CORPORA = {"find_duplicates": ["memory", "task"], "find_decayed": ["task", "artifact"]}
TOP_K, TOP_K_MAX = 5, 20
SNIPPET = 240


def _number(params: Mapping[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ActionInputError(f"{name} must be a number")
    return float(value)


def _fmt(hits: list[dict[str, Any]]) -> str:
    if not hits:
        return "   (no matches)"
    return "\n".join(
        f"{i}. [{h['score']:.3f}] {h.get('sourcePath') or h.get('sourceType')}\n"
        f"   {' '.join(str(h['content']).split())[:SNIPPET]}"
        for i, h in enumerate(hits, 1)
    )


@action(
    "spec_compare",
    "admin",
    "Spec drift: CODE vs SPEC evidence for one feature, for you to judge. Params: feature (or query), topK? (5, max "
    "20), workspaceId?",
)
async def spec_compare(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    feature = params.get("feature") or params.get("query")
    if not feature:
        raise ActionInputError("feature (or query) is required")
    ws = _workspace_id(params, ctx)
    if not ws:
        raise ActionInputError("workspaceId is required for spec_compare — connect with ?workspace=<id>")
    top_k = int(min(_number(params, "topK") or TOP_K, TOP_K_MAX))
    data = ctx.local_port().knowledge("spec_compare", ws, feature=str(feature), top_k=top_k)
    anchors: list[str] = data["anchors"]
    if anchors:
        bridges = "\n".join(f"  • {a}" for a in anchors[:10])
        anchor_section = (
            f"**Spec→Code bridges** ({len(anchors)} anchor(s) extracted from SPEC — used for lexical code "
            f"retrieval):\n{bridges}\n\n"
        )
    else:
        anchor_section = (
            "**No implementation anchors found in SPEC** — code evidence below is from semantic search only. "
            "Low scores here may indicate inconclusive retrieval rather than absent implementation. "
            "Retry with implementation-vocabulary terms (function names, file paths).\n\n"
        )
    if not data["code"] and not anchors:
        code_section = (
            "   (retrieval inconclusive — no implementation anchors could be extracted from spec; "
            "semantic-only search returned no code matches. Search directly with identifiers such as "
            "function names, type names, or file paths for higher-confidence results.)"
        )
    else:
        code_section = _fmt(data["code"])
    text = (
        f'# spec_compare: "{feature}"\n\n'
        + anchor_section
        + f"## CODE evidence (what is actually implemented)\n{code_section}\n\n"
        + f"## SPEC evidence (what the spec/docs claim)\n{_fmt(data['spec'])}\n\n"
        + "## How to judge\n"
        + "Scores SURFACE candidates; they do NOT decide. Read the CODE snippets: do they "
        + f'actually implement "{feature}" (a real table/route/impl), or are they only '
        + "semantic neighbours? Rule one of: IMPLEMENTED · DOCUMENTED-NOT-BUILT · "
        + "SHIPPED-NOT-DOCUMENTED · CONTRADICTED. The verdict is yours, not the scores'."
    )
    return Outcome(text, data)


@action(
    "consolidate_knowledge",
    "admin",
    "Knowledge consolidation. Params: op (find_duplicates|find_decayed|archive), corpora?, threshold? (0.92), "
    "limit?, halfLifeMultiple? (6), corpus? + sourceIds? (archive), reason?, workspaceId?",
)
async def consolidate_knowledge(api: Api, params: Mapping[str, Any], ctx: ActionContext) -> Outcome:
    op = params.get("op")
    if op not in CONSOLIDATE_OPS:
        raise ActionInputError(f"op is required and must be one of: {', '.join(CONSOLIDATE_OPS)}")
    local, ws = ctx.local_port(), _workspace_id(params, ctx)
    if op == "archive":
        corpus = params.get("corpus")
        if not corpus:
            raise ActionInputError("corpus is required for op=archive")
        source_ids = params.get("sourceIds")
        if not isinstance(source_ids, list) or not source_ids or not all(isinstance(s, str) for s in source_ids):
            raise ActionInputError("sourceIds (non-empty string[]) is required for op=archive")
        reason = params.get("reason")
        data = local.knowledge(
            "archive", ws, corpus=str(corpus), source_ids=source_ids, reason=str(reason) if reason else None
        )
        ids = "\n".join(f"- {s}" for s in data["sourceIds"])
        return Outcome(
            f"Archived {data['archived']} of {len(source_ids)} chunk(s) in {data['namespace']} "
            f"(is_current=false — recoverable, nothing deleted)." + (f"\n{ids}" if ids else ""),
            data,
        )
    corpora = params.get("corpora")
    if corpora is None:
        corpora = DEFAULT_CORPORA[str(op)]
    elif not isinstance(corpora, list) or not all(isinstance(c, str) for c in corpora):
        raise ActionInputError("corpora must be an array of corpus names")
    limit = _number(params, "limit")
    if op == "find_duplicates":
        data = local.knowledge(
            "find_duplicates", ws, corpora=corpora, threshold=_number(params, "threshold"), limit=limit
        )
        if not data["pairs"]:
            return Outcome(f"No near-duplicate pairs found (namespaces: {', '.join(data['namespaces'])}).", data)
        pairs = "\n\n".join(
            f"### {i}. similarity {p['similarity']:.3f} ({p['namespace']})\n"
            f"- A: {p['sourceIdA']} (hits: {p['hitCountA']}{_ts(p['sourceTsA'])})\n  > {p['previewA']}\n"
            f"- B: {p['sourceIdB']} (hits: {p['hitCountB']}{_ts(p['sourceTsB'])})\n  > {p['previewB']}"
            for i, p in enumerate(data["pairs"], 1)
        )
        return Outcome(
            f"Found {len(data['pairs'])} near-duplicate pair(s). Judge each pair before merging — merge memory "
            f"survivors via save/update with supersedes; archive task-corpus losers.\n\n{pairs}",
            data,
        )
    data = local.knowledge(
        "find_decayed", ws, corpora=corpora, half_life_multiple=_number(params, "halfLifeMultiple"), limit=limit
    )
    if not data["chunks"]:
        return Outcome(f"No decayed unused chunks found (namespaces: {', '.join(data['namespaces'])}).", data)
    lines = "\n".join(
        f"- {c['sourceId']} [{c['corpus']}]{' ts: ' + c['sourceTs'] if c['sourceTs'] else ''} hits: {c['hitCount']}"
        f"\n  > {c['preview']}"
        for c in data["chunks"]
    )
    return Outcome(
        f"Found {len(data['chunks'])} decayed zero-hit chunk(s). Sanity-check previews, then archive with op=archive "
        f"(corpus + sourceIds):\n{lines}",
        data,
    )


def _ts(value: str | None) -> str:
    return f", ts: {value}" if value else ""
