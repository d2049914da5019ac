"""The runner's recorded requests (tests/data/client-requests.jsonl, a copy of the shared corpus kept in the
repository so CI replays it too) and its exact bodies, as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS_PATH = Path(__file__).resolve().parents[2] / "data" / "client-requests.jsonl"

# the runner's heartbeat `environment`, as scanned on a Linux VM (trimmed to its distinct kinds of entry)
ENVIRONMENT: dict[str, Any] = {
    "tools": [{"name": "node", "version": "20.20.2"}, {"name": "git", "version": "2.39.5"}, {"name": "kubectl"}],
    "envKeys": ["backend:codex"],
    "mcp": [],
    "mcpServers": [],
    "labels": {"type": "local", "os": "linux", "arch": "x64", "hostname": "vm"},
    "scannedAt": "2026-12-03T07:10:10.542Z",
}
RUNNER = "headless://vm"


def corpus_lines() -> list[dict[str, Any]]:
    """Every recorded request, in order; empty when the corpus is not on this machine."""
    if not CORPUS_PATH.exists():
        return []
    return [json.loads(line) for line in CORPUS_PATH.read_text().splitlines() if line.strip()]
