"""The knowledge store as the mock sees it: what the MCP actions `spec_compare` and `consolidate_knowledge` read
and archive.

The real server keeps a pgvector table of chunks (namespaces `<scopeId>:<corpus>`, with embeddings, retrieval hit
counts and `is_current`) and has no REST route for these two actions: its MCP handlers query that table directly.
The mock has no embeddings and no vector table, so it derives the chunks from its own tables, deterministically:

    corpus      namespace          one chunk per ...                                   sourceId          sourceTs
    memory      <teamId>:memory    memory of the team (title and content)              <memory id>       createdAt
    task        <wsId>:task        completed or failed task (title, description,       task:<id>         updatedAt
                                   result summary): the outcomes the real one indexes
    artifact    <wsId>:artifact    artifact of the workspace (title and content)       artifact:<id>     updatedAt
    code        <wsId>:code        ingested code file (its kept text, see know.py)     <path>            updatedAt
    docs, spec  <wsId>:docs|spec   ingested markdown/text file (the runner ingests     <path>            updatedAt
                                   docs into both namespaces)
    pr, plan, session, initiative: none (the mock indexes no PR diffs, plans, sessions or initiative specs)

In place of embeddings, the similarity of two chunks is the cosine of their word-count vectors, and the score of a
chunk for a query is the share of the query's words it holds. Hit counts are 0: the mock tracks no retrievals.
Archiving (`archive`) records `(namespace, sourceId, reason, archivedAt)` in `knowledgeArchive`: an archived chunk
is no longer current, so neither consolidation nor `spec_compare` returns it again; like the real archive (which only
flips `is_current`), nothing is deleted: the memory, task, artifact or file stays where it is.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mockserver.domain import access
from mockserver.domain.area import Area
from mockserver.domain.auth import Principal
from mockserver.domain.errors import BadRequest, Forbidden
from mockserver.domain.runtime import parse_iso
from mockserver.domain.store import Record, register_table

__all__ = ("CORPORA", "HALF_LIFE_DAYS", "TEAM_CORPORA", "Chunk", "KnowledgeStore", "implementation_anchors")

ARCHIVE = "knowledgeArchive"  # key `<namespace>|<sourceId>`
register_table(ARCHIVE, "key")

# the real corpus half-lives in days (what "decayed" is measured against)
HALF_LIFE_DAYS: dict[str, int] = {
    "spec": 365,
    "docs": 180,
    "initiative": 180,
    "code": 90,
    "plan": 60,
    "memory": 120,
    "pr": 45,
    "task": 30,
    "artifact": 30,
    "session": 7,
}
CORPORA = tuple(HALF_LIFE_DAYS)
TEAM_CORPORA = ("memory", "initiative")  # team-scoped namespaces; every other corpus is per workspace
FILE_CORPORA = {"code": ("code",), "docs": ("docs",), "spec": ("docs",)}  # namespace corpus -> knowledgeFiles corpus
OUTCOME_STATUSES = ("completed", "failed")

# the real defaults and caps
DUPLICATE_THRESHOLD = 0.92
DUPLICATE_LIMIT, DUPLICATE_LIMIT_MAX = 50, 200
CANDIDATE_LIMIT = 500  # newest chunks entering the pairwise comparison
DECAYED_MULTIPLE = 6.0
DECAYED_LIMIT, DECAYED_LIMIT_MAX = 200, 500
TOP_K, TOP_K_MAX = 5, 20
MAX_ANCHORS = 20
PREVIEW = 240
ARCHIVE_MARKER = "archived:consolidation"

_WORD = re.compile(r"\w+")
# implementation anchors: file paths, API routes, camelCase symbols (>= 6 chars), PascalCase types (>= 6 chars)
_ANCHORS = (
    re.compile(r"\b(?:apps|packages)/[a-zA-Z0-9_./-]+\.(?:ts|tsx|js|jsx|json|sql|md|mdx)\b"),
    re.compile(r"/api/[a-zA-Z0-9/\[\]_-]+"),
    re.compile(r"\b[a-z][a-zA-Z0-9]*[A-Z][a-zA-Z0-9]*\b"),
    re.compile(r"\b[A-Z][a-z][a-zA-Z0-9]{4,}\b"),
)
_MIN_SYMBOL = 6


@dataclass(frozen=True, slots=True)
class Chunk:
    namespace: str
    corpus: str
    source_id: str
    content: str
    source_ts: str | None
    source_path: str | None = None

    def words(self) -> Counter[str]:
        return Counter(w.lower() for w in _WORD.findall(self.content))

    def preview(self) -> str:
        return self.content[:PREVIEW]


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(n * b[w] for w, n in a.items() if w in b)
    norm = math.sqrt(sum(n * n for n in a.values())) * math.sqrt(sum(n * n for n in b.values()))
    return dot / norm if norm else 0.0


def implementation_anchors(texts: Iterable[str]) -> list[str]:
    """What spec prose names of its implementation, in order of appearance, at most 20 (the real bridge terms)."""
    combined = "\n".join(texts)
    found: dict[str, None] = {}
    for number, pattern in enumerate(_ANCHORS):
        for match in pattern.findall(combined):
            if number < 2 or len(match) >= _MIN_SYMBOL:
                found.setdefault(match)
    return list(found)[:MAX_ANCHORS]


def _joined(*parts: Any) -> str:
    return "\n\n".join(str(p) for p in parts if p)


class KnowledgeStore(Area):
    """spec_compare and consolidate_knowledge (admin keys only), over the chunks derived from the mock's tables."""

    # -- reach and namespaces ---------------------------------------------------------------------------------------

    def _admin_scope(self, principal: Principal, workspace_id: str | None) -> tuple[str, Record | None]:
        """(team id, workspace) the caller acts on: the connection's workspace (404 out of reach), else its team."""
        if not principal.is_admin_key:
            raise Forbidden("Admin-level API key required")
        if workspace_id:
            workspace = access.workspace_for(self.store, principal, workspace_id)
            return str(workspace["teamId"]), workspace
        return str(self._caller_account(principal)["teamId"]), None

    @staticmethod
    def namespace(corpus: str, team_id: str, workspace_id: str | None) -> str | None:
        """`<teamId>:memory|initiative`, `<workspaceId>:<corpus>`; None when the workspace is needed but unknown."""
        if corpus in TEAM_CORPORA:
            return f"{team_id}:{corpus}"
        return f"{workspace_id}:{corpus}" if workspace_id else None

    def _archived(self) -> set[str]:
        return {str(r["key"]) for r in self.store.rows(ARCHIVE)}

    def _chunks(self, corpus: str, team_id: str, workspace_id: str | None) -> list[Chunk]:
        """The current chunks of one namespace, in sourceId order (none for a corpus the mock does not index)."""
        namespace = self.namespace(corpus, team_id, workspace_id)
        if namespace is None:
            return []
        chunks: list[Chunk] = []
        if corpus == "memory":
            chunks = [
                Chunk(namespace, corpus, str(m["id"]), _joined(m.get("title"), m.get("content")), m.get("createdAt"))
                for m in self.store.find("memories", "team", team_id)
            ]
        elif corpus == "task":
            chunks = [
                Chunk(
                    namespace,
                    corpus,
                    f"task:{t['id']}",
                    _joined(t.get("title"), t.get("description"), (t.get("result") or {}).get("summary")),
                    t.get("updatedAt"),
                )
                for t in self.store.find("tasks", "workspace", workspace_id)
                if t.get("status") in OUTCOME_STATUSES
            ]
        elif corpus == "artifact":
            chunks = [
                Chunk(
                    namespace, corpus, f"artifact:{a['id']}", _joined(a.get("title"), a.get("content")), a["updatedAt"]
                )
                for a in self.store.find("artifacts", "workspace", workspace_id)
            ]
        elif corpus in FILE_CORPORA:
            chunks = [
                Chunk(namespace, corpus, str(f["path"]), str(f.get("text") or ""), f.get("updatedAt"), str(f["path"]))
                for f in self.store.rows("knowledgeFiles")
                if f["workspaceId"] == workspace_id and f.get("corpus") in FILE_CORPORA[corpus]
            ]
        archived = self._archived()
        return sorted((c for c in chunks if f"{namespace}|{c.source_id}" not in archived), key=lambda c: c.source_id)

    def _reach(self, principal: Principal, workspace_id: str | None) -> tuple[str, str | None]:
        """(team id, workspace id) for any key level: the connection's workspace (404 out of reach), else the team."""
        if workspace_id:
            workspace = access.workspace_for(self.store, principal, workspace_id)
            return str(workspace["teamId"]), str(workspace["id"])
        return str(self._caller_account(principal)["teamId"]), None

    # -- recall -----------------------------------------------------------------------------------------------------

    def recall(
        self, principal: Principal, workspace_id: str | None, corpus: str, query: str, limit: int
    ) -> dict[str, Any]:
        """The `recall` tool on a corpus other than memory: the namespace's current chunks holding the query's words,
        best first (the real hybrid retrieval over the vector store, minus the embeddings). Any key level."""
        with self.store.lock:
            team_id, ws_id = self._reach(principal, workspace_id)
            namespace = self.namespace(corpus, team_id, ws_id)
            if namespace is None:  # the real messages
                needs = "teamId" if corpus in TEAM_CORPORA else "workspaceId"
                raise BadRequest(f"{needs} required for recall with scope={corpus}")
            chunks = self._chunks(corpus, team_id, ws_id)
        return {"namespace": namespace, "results": self._ranked(chunks, query, limit)}

    def archived(self, principal: Principal, workspace_id: str | None, corpus: str) -> list[str]:
        """The sourceIds archived in the caller's namespace of `corpus` (recall leaves them out, as the real one
        drops `is_current = false` chunks)."""
        with self.store.lock:
            team_id, ws_id = self._reach(principal, workspace_id)
            namespace = self.namespace(corpus, team_id, ws_id)
            return sorted(str(r["sourceId"]) for r in self.store.rows(ARCHIVE) if r["namespace"] == namespace)

    # -- spec_compare -----------------------------------------------------------------------------------------------

    def spec_compare(self, principal: Principal, workspace_id: str, feature: str, top_k: int) -> dict[str, Any]:
        """CODE vs SPEC evidence for one feature: the spec chunks and the code chunks that hold its words, plus the
        code chunks that hold the implementation anchors the spec hits name (fused, best score per chunk).
        No verdict: the caller judges."""
        top_k = min(max(top_k, 1), TOP_K_MAX)
        with self.store.lock:
            team_id, workspace = self._admin_scope(principal, workspace_id)
            ws_id = str(workspace["id"]) if workspace else None
            spec_chunks = self._chunks("spec", team_id, ws_id)
            code_chunks = self._chunks("code", team_id, ws_id)
        spec_hits = self._ranked(spec_chunks, feature, top_k)
        anchors = implementation_anchors(hit["content"] for hit in spec_hits)
        code_hits = self._ranked(code_chunks, feature, top_k)
        if anchors:
            fused = {hit["sourceId"]: hit for hit in self._ranked(code_chunks, " ".join(anchors), top_k)}
            for hit in code_hits:
                if hit["score"] > fused.get(hit["sourceId"], {"score": -1.0})["score"]:
                    fused[hit["sourceId"]] = hit
            code_hits = sorted(fused.values(), key=lambda h: (-h["score"], h["sourceId"]))[:top_k]
        return {"feature": feature, "workspaceId": ws_id, "anchors": anchors, "code": code_hits, "spec": spec_hits}

    @staticmethod
    def _ranked(chunks: Sequence[Chunk], query: str, top_k: int) -> list[dict[str, Any]]:
        """Chunks holding at least one query word, by the share of the query's words they hold (ties: sourceId)."""
        terms = {w.lower() for w in _WORD.findall(query)}
        if not terms:
            return []
        scored = [(len(terms & set(c.words())) / len(terms), c) for c in chunks]
        best = sorted((pair for pair in scored if pair[0] > 0), key=lambda pair: (-pair[0], pair[1].source_id))
        return [
            {
                "sourceId": c.source_id,
                "sourcePath": c.source_path,
                "sourceType": c.corpus,
                "score": round(score, 6),
                "content": c.content,
            }
            for score, c in best[:top_k]
        ]

    # -- consolidate_knowledge ----------------------------------------------------------------------------------------

    def _scoped(
        self, principal: Principal, workspace_id: str | None, corpora: Sequence[str]
    ) -> tuple[list[str], list[list[Chunk]]]:
        """The namespaces of `corpora` the caller can resolve and their current chunks (an unknown corpus resolves
        to a namespace that holds nothing, as in the real store); none resolvable is a 400 with the real message."""
        team_id, workspace = self._admin_scope(principal, workspace_id)
        ws_id = str(workspace["id"]) if workspace else None
        resolved = [(c, ns) for c in corpora if (ns := self.namespace(c, team_id, ws_id)) is not None]
        if not resolved:
            raise BadRequest(
                f"No namespace resolvable for corpora [{', '.join(corpora)}] — memory needs teamId, "
                "other corpora need workspaceId"
            )
        return [ns for _, ns in resolved], [self._chunks(c, team_id, ws_id) for c, _ in resolved]

    def find_duplicates(
        self,
        principal: Principal,
        workspace_id: str | None,
        corpora: Sequence[str],
        threshold: float | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """Pairs of current chunks in the same namespace whose word-vector cosine exceeds `threshold` (0.92),
        most similar first (ties: the pair's sourceIds); A is the smaller sourceId. The 500 newest chunks of each
        namespace are compared."""
        floor = DUPLICATE_THRESHOLD if threshold is None else float(threshold)
        most = min(max(int(limit or DUPLICATE_LIMIT), 1), DUPLICATE_LIMIT_MAX)
        with self.store.lock:
            namespaces, per_namespace = self._scoped(principal, workspace_id, corpora)
        pairs: list[dict[str, Any]] = []
        for chunks in per_namespace:
            newest = sorted(chunks, key=lambda c: (c.source_ts or "", c.source_id), reverse=True)[:CANDIDATE_LIMIT]
            candidates = sorted(newest, key=lambda c: c.source_id)
            vectors = [c.words() for c in candidates]
            for i, a in enumerate(candidates):
                for j in range(i + 1, len(candidates)):
                    similarity = _cosine(vectors[i], vectors[j])
                    if similarity > floor:
                        pairs.append(self._pair(a, candidates[j], similarity))
        pairs.sort(key=lambda p: (-p["similarity"], p["sourceIdA"], p["sourceIdB"]))
        return {"namespaces": namespaces, "pairs": pairs[:most]}

    @staticmethod
    def _pair(a: Chunk, b: Chunk, similarity: float) -> dict[str, Any]:
        return {
            "namespace": a.namespace,
            "sourceIdA": a.source_id,
            "sourceIdB": b.source_id,
            "similarity": round(similarity, 6),
            "previewA": a.preview(),
            "previewB": b.preview(),
            "sourceTsA": a.source_ts,
            "sourceTsB": b.source_ts,
            "hitCountA": 0,
            "hitCountB": 0,
        }

    def find_decayed(
        self,
        principal: Principal,
        workspace_id: str | None,
        corpora: Sequence[str],
        half_life_multiple: float | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """Current chunks never retrieved (all, in the mock) whose sourceTs is older than `half_life_multiple` (6)
        times their corpus half-life on the mock's clock, oldest first. A chunk without a timestamp is kept."""
        multiple = DECAYED_MULTIPLE if half_life_multiple is None else float(half_life_multiple)
        most = min(max(int(limit or DECAYED_LIMIT), 1), DECAYED_LIMIT_MAX)
        now = self.clock.now()
        with self.store.lock:
            namespaces, per_namespace = self._scoped(principal, workspace_id, corpora)
        decayed = [
            c
            for chunks in per_namespace
            for c in chunks
            if c.source_ts and parse_iso(c.source_ts) < now - timedelta(days=multiple * HALF_LIFE_DAYS[c.corpus])
        ]
        decayed.sort(key=lambda c: (parse_iso(str(c.source_ts)), c.namespace, c.source_id))
        rows = [
            {
                "namespace": c.namespace,
                "sourceId": c.source_id,
                "corpus": c.corpus,
                "sourceTs": c.source_ts,
                "hitCount": 0,
                "preview": c.preview(),
            }
            for c in decayed[:most]
        ]
        return {"namespaces": namespaces, "chunks": rows}

    def archive(
        self,
        principal: Principal,
        workspace_id: str | None,
        corpus: str,
        source_ids: Sequence[str],
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Mark the namespace's current chunks among `source_ids` archived (once each, in the order given); returns
        the ones that were current. Unknown or already archived ids are skipped, as the real UPDATE skips them."""
        with self.store.transaction():
            team_id, workspace = self._admin_scope(principal, workspace_id)
            ws_id = str(workspace["id"]) if workspace else None
            namespace = self.namespace(corpus, team_id, ws_id)
            if namespace is None:
                raise BadRequest("workspaceId required to archive chunks")  # the real message
            current = {c.source_id for c in self._chunks(corpus, team_id, ws_id)}
            archived: list[str] = []
            for source_id in dict.fromkeys(source_ids):
                if source_id in current:
                    self.store.insert(
                        ARCHIVE,
                        {
                            "key": f"{namespace}|{source_id}",
                            "namespace": namespace,
                            "sourceId": source_id,
                            "reason": reason or ARCHIVE_MARKER,
                            "archivedAt": self._now(),
                        },
                    )
                    archived.append(source_id)
            return {"namespace": namespace, "archived": len(archived), "sourceIds": archived}
