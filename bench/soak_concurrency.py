"""Concurrency soak: the hardening suite's concurrency scenario (tests/hardening/_load.py) at a larger scale,
against `buildd-api serve` on the `large` world; prints throughput, errors and the consistency verdict.

    .venv/bin/python bench/soak_concurrency.py                       # 200 clients x 100 requests, large, strict
    .venv/bin/python bench/soak_concurrency.py --clients 50 --requests 40 --scenario default

Each client holds one connection and mixes claims (maxTasks 1-3, worker keys competing for their accounts'
slots, incl. the large world's two 500-slot fleets), worker PATCHes (running -> progress -> completed or
failed), task creates and reads, bounded in count (--requests) and time (--deadline). The mock runs under
`timeout` in its own process group and is stopped by that group's id. Afterwards the state (`/__mock/state`) is
checked against every acknowledged answer (see _load.check_consistency); problems the world already had
before the load are reported apart and do not count against the verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import Server, free_port, http_request, mock_serve_cmd, rss_kib

from tests.hardening._load import LoadConfig, check_consistency, invariant_problems, run_load

WORKERS = (
    "acme-fleet",
    "globex-fleet",
    "acme-admin",
    "acme-ci",
    "acme-laptop",
    "acme-actions",
    "globex-admin",
    "globex-ci",
    "globex-laptop",
)


def _state(base_url: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/__mock/state", timeout=120)
    response.raise_for_status()
    return response.json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=100, help="requests per client")
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=600, help="seconds for the whole load")
    parser.add_argument("--no-strict", action="store_true", help="run the mock without --strict")
    args = parser.parse_args()

    from fixtures.keys import FixtureKeys
    from fixtures.world import load_world

    world = load_world(args.scenario)
    keys = {name: k.key for name, k in FixtureKeys.of(world).items()}
    ids = {a["name"]: a["id"] for a in world["accounts"]}
    team_of = {a["name"]: a["teamId"] for a in world["accounts"]}
    creators = {
        name: next(w["id"] for w in world["workspaces"] if w["teamId"] == team_of[name] and w["accessMode"] == "open")
        for name in ("acme-admin", "globex-admin")
    }
    workers = tuple(name for name in WORKERS if name in keys)
    config = LoadConfig(
        clients=args.clients,
        requests_per_client=args.requests,
        worker_accounts=workers,
        seed=args.seed,
        deadline=args.deadline,
        request_timeout=60,
    )

    work = Path(tempfile.mkdtemp(prefix="soak-concurrency-"))
    port = free_port()
    extra = ["--scenario", args.scenario] + ([] if args.no_strict else ["--strict"])
    server = Server("soak-concurrency-mock", mock_serve_cmd(port, *extra), limit_s=int(args.deadline) + 300)
    server.log_path = work / "mock.log"
    base_url = f"http://127.0.0.1:{port}"
    try:
        server.start()
        server.wait_ready(lambda: http_request(port, "GET", "/__mock/clock")[0] == 200, timeout_s=120)
        before = _state(base_url)
        rss_before = rss_kib(server.main_pid())
        started = time.perf_counter()
        result = asyncio.run(run_load(base_url, keys, creators, config))
        elapsed = time.perf_counter() - started
        rss_after = rss_kib(server.main_pid())
        after = _state(base_url)
        alive = server.alive()
    finally:
        server.stop()

    pre_existing = set(invariant_problems(before))
    problems = check_consistency(before, after, result, ids)
    new = [p for p in problems if p not in pre_existing]
    log = server.log_path.read_text(errors="replace")
    crashes = [line for line in log.splitlines() if "a bug in the mock" in line or "strict:" in line]
    summary = {
        "command": " ".join(sys.argv),
        "scenario": args.scenario,
        "strict": not args.no_strict,
        "clients": args.clients,
        "requests_per_client": args.requests,
        "world": {"tasks": len(before["tasks"]), "workers": len(before["workers"])},
        **result.summary(),
        "wall_s": round(elapsed, 2),
        "server_rss_kib": {"before": rss_before, "after": rss_after},
        "server_alive_at_end": alive,
        "server_log_errors": len(crashes),
        "pre_existing_world_problems": len(pre_existing),
        "new_consistency_problems": len(new),
        "problem_examples": new[:20],
        "pre_existing_examples": sorted(pre_existing)[:5],
    }
    print(json.dumps(summary, indent=2))
    ok = not new and not crashes and alive
    print(
        f"\nVERDICT: {'CONSISTENT' if ok else 'INCONSISTENT'}  {result.requests} requests in {elapsed:.1f}s "
        f"({result.throughput:.0f} req/s), {len(result.server_errors)} 5xx, {len(result.transport_errors)} "
        f"transport errors, {len(result.claims)} claims, {len(new)} consistency problems"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
