"""HTTP throughput and p50/p99 latency with wrk: the mock vs Prism 5 vs a bare Litestar handler (the ceiling).

    .venv/bin/python bench/http_throughput.py                   # full matrix, two rounds (~6 min)
    .venv/bin/python bench/http_throughput.py --rounds 1 --duration 5 --warmup 1 --prism-warmup 2   # smoke run
    .venv/bin/python bench/http_throughput.py --only mock-uvicorn,prism --targets tasks

Method (shared/reference/toolchain.md §3): `wrk -t1 -c50 -d10s --latency`, every server with 1 worker and no
access log, all started at once on the same machine and loaded one at a time. Per target the servers run back to
back (the ceiling's GET in the same group, so each ratio compares runs a few seconds apart), in an order rotated
every round; each run is preceded by an unrecorded warm-up of the same load (--warmup s; Prism --prism-warmup s,
its JIT needs it). Ratios are computed within a round, then the median over rounds is shown.

Targets:
- tasks   GET /api/tasks with a fixture API key (default world: the key's 23 visible tasks, ~22 KB)
- tasks1  GET /api/tasks?workspaceId=..&status=.. filtered to exactly one task (the size of Prism's example list)
- worker  GET /api/workers/{id} with the owner's key and one of its workers (default world)
- cycle   POST /api/workers/claim then PATCH /api/workers/{id} to completed (bench/claim_cycle.lua), on a
          fresh `large` world of --cycle-size tasks (caps lifted, see serve.py) so there is always work to claim
- ping    the ceiling app's one GET (bench/ceiling_app.py), measured in the tasks and worker groups

Prism (`-v error`, installed on demand into bench/.prism) gets the same plain requests: a valid-looking key, a
fixed worker id, and for the cycle claim / PATCH alternating (it is stateless; its claim answers `workers: []`).
Writes bench/results/<timestamp>-http.json and prints the markdown tables (ratios first).
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from _common import (
    BENCH,
    PLAIN_KEY,
    PLAIN_UUID,
    PY,
    Server,
    auth,
    ensure_prism,
    fmt_ratio,
    free_port,
    http_json,
    http_request,
    log,
    md_table,
    median,
    mock_serve_cmd,
    prism_cmd,
    ready_get,
    require_wrk,
    rss_kib,
    run_wrk,
    timestamp,
    tool_versions,
    write_results,
)

SERVERS = ("mock-uvicorn", "mock-granian", "prism", "ceiling-uvicorn", "ceiling-granian")
TARGETS = ("tasks", "tasks1", "worker", "cycle")
CEILING_GROUPS = ("tasks", "worker")  # groups in which the ceilings' GET /api/ping runs
LABELS = {
    "tasks": "GET /api/tasks",
    "tasks1": "GET /api/tasks (1 task)",
    "worker": "GET /api/workers/{id}",
    "cycle": "claim + PATCH cycle",
    "ping": "GET /api/ping (bare handler)",
}
GOAL_TARGETS = ("tasks", "tasks1", "worker")  # the targets the goals apply to (GETs)
LUA = BENCH / "claim_cycle.lua"


# ------------------------------------------------------------------------------------------ discovery
def mock_fixture(port: int) -> dict[str, Any]:
    """From the running mock: a key that sees tasks and owns a worker, that worker, a one-task filter."""
    keys = http_json(port, "GET", "/__mock/keys")
    accounts = [a for a in keys["accounts"] if a.get("key")]
    if not accounts:
        raise RuntimeError("GET /__mock/keys lists no account keys")
    chosen = None
    for acc in accounts[:50]:
        status, raw = http_request(port, "GET", "/api/workers/mine", auth(acc["key"]))
        if status == 200 and (workers := json.loads(raw).get("workers") or []):
            chosen = (acc, workers[0]["id"])
            break
    if chosen is None:
        raise RuntimeError("no fixture account owns a worker (GET /api/workers/mine was empty for every key)")
    acc, worker_id = chosen
    status, raw = http_request(port, "GET", "/api/tasks", auth(acc["key"]))
    tasks = json.loads(raw).get("tasks", []) if status == 200 else []
    return {
        "account": acc["name"],
        "accountId": acc["accountId"],
        "key": acc["key"],
        "workerId": worker_id,
        "tasks_listed": len(tasks),
        "scenario": keys.get("scenario"),
        "accounts": accounts,
        "one_task_query": one_task_query(port, acc["key"], tasks),
    }


def one_task_query(port: int, key: str, tasks: list[dict[str, Any]]) -> str | None:
    """`workspaceId=..&status=..` that lists exactly one task (the shape and size of Prism's example list)."""
    combos = collections.Counter((t.get("workspaceId"), t.get("status")) for t in tasks)
    for (ws, status), n in sorted(combos.items(), key=lambda kv: (kv[1], str(kv[0]))):
        if n != 1 or not ws or status in (None, "completed", "failed", "cancelled"):
            continue
        query = urlencode({"workspaceId": ws, "status": status})
        code, raw = http_request(port, "GET", f"/api/tasks?{query}", auth(key))
        if code == 200 and len(json.loads(raw).get("tasks", [])) == 1:
            return query
    return None


def claim_keys(port: int, accounts: list[dict[str, Any]], connections: int) -> tuple[str, list[str]]:
    """`accountId=key` pairs for the cycle: accounts whose claim returns a worker, with the most worker slots.

    An account at its `maxConcurrentWorkers` answers 429, so with 50 connections in flight only accounts with
    room for them keep the cycle on its success path (the `large` world's fleet accounts: 500 workers).
    """
    probed: list[tuple[int, dict[str, Any]]] = []
    for acc in accounts[:40]:
        status, raw = http_request(
            port, "POST", "/api/workers/claim", auth(acc["key"]), {"runner": "bench-probe", "maxTasks": 1}
        )
        if status != 200 or not (workers := json.loads(raw).get("workers")):
            continue
        http_request(
            port,
            "PATCH",
            f"/api/workers/{workers[0]['id']}",
            auth(acc["key"]),
            {"status": "completed", "progress": 100, "summary": "bench"},
        )
        status, raw = http_request(port, "GET", "/api/accounts/me", auth(acc["key"]))
        max_workers = int(json.loads(raw).get("maxConcurrentWorkers") or 0) if status == 200 else 0
        probed.append((max_workers, acc))
    if not probed:
        raise RuntimeError("no fixture account could claim a task in the cycle world")
    probed.sort(key=lambda p: -p[0])
    roomy = [acc for max_workers, acc in probed if max_workers >= 2 * connections] or [probed[0][1]]
    return ",".join(f"{a['accountId']}={a['key']}" for a in roomy), [a["name"] for a in roomy]


# ---------------------------------------------------------------------------------------------- runs
def server_cmd(
    name: str, port: int, scenario: str | None = None, size: int | None = None, uncap: bool = False
) -> list[str]:
    if name == "prism":
        return prism_cmd(port)
    if name == "mock-uvicorn" and not size:
        return mock_serve_cmd(port, *(["--scenario", scenario] if scenario else []))  # `buildd-api serve` itself
    app, srv = name.split("-")
    cmd = [PY, str(BENCH / "serve.py"), "--app", app, "--server", srv, "--port", str(port)]
    if scenario:
        cmd += ["--scenario", scenario]
    if size:
        cmd += ["--size", str(size)]
    if uncap:
        cmd.append("--uncap")
    return cmd


def loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def measure(url: str, args: argparse.Namespace, warmup: int, **kw: Any) -> dict[str, Any]:
    load_before = loadavg()
    if warmup > 0:
        run_wrk(url, duration_s=warmup, connections=args.connections, **kw)
    res = run_wrk(url, duration_s=args.duration, connections=args.connections, **kw)
    return {k: v for k, v in res.items() if k != "raw"} | {
        "raw_tail": res["raw"][-1500:],
        "loadavg_before": load_before,
    }


class Endpoint:
    """A running server and how to load it for each target: (url, wrk keyword arguments, info)."""

    def __init__(self, name: str, srv: Server, port: int) -> None:
        self.name, self.srv, self.port = name, srv, port
        self.base = f"http://127.0.0.1:{port}"
        self.plans: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {}


def start_endpoint(name: str, targets: list[str], limit_s: int) -> Endpoint | None:
    port = free_port()
    srv = Server(name, server_cmd(name, port), limit_s=limit_s).start()
    ep = Endpoint(name, srv, port)
    try:
        if name.startswith("ceiling"):
            srv.wait_ready(ready_get(port, "/api/ping"))
            ep.plans["ping"] = (f"{ep.base}/api/ping", {}, {})
            return ep
        if name == "prism":
            srv.wait_ready(ready_get(port, "/api/tasks", auth(PLAIN_KEY)))
            one = urlencode({"workspaceId": PLAIN_UUID, "status": "pending"})
            ep.plans["tasks"] = (f"{ep.base}/api/tasks", {"headers": auth(PLAIN_KEY)}, {})
            ep.plans["tasks1"] = (f"{ep.base}/api/tasks?{one}", {"headers": auth(PLAIN_KEY)}, {})
            ep.plans["worker"] = (f"{ep.base}/api/workers/{PLAIN_UUID}", {"headers": auth(PLAIN_KEY)}, {})
            ep.plans["cycle"] = (
                ep.base,
                {"script": LUA, "env": {"BENCH_KEYS": PLAIN_KEY, "BENCH_FALLBACK_WORKER": PLAIN_UUID}},
                {},
            )
            return ep
        srv.wait_ready(ready_get(port, "/openapi.yaml"))
        fx = mock_fixture(port)
        log(
            f"{name}: key of {fx['account']} ({fx['tasks_listed']} tasks listed), worker {fx['workerId']}, "
            f"one-task filter {fx['one_task_query']}"
        )
        hdr = {"headers": auth(fx["key"])}
        ep.plans["tasks"] = (f"{ep.base}/api/tasks", hdr, {k: fx[k] for k in ("account", "tasks_listed", "scenario")})
        if fx["one_task_query"]:
            ep.plans["tasks1"] = (
                f"{ep.base}/api/tasks?{fx['one_task_query']}",
                hdr,
                {"account": fx["account"], "query": fx["one_task_query"]},
            )
        ep.plans["worker"] = (
            f"{ep.base}/api/workers/{fx['workerId']}",
            hdr,
            {k: fx[k] for k in ("account", "workerId", "scenario")},
        )
        return ep
    except Exception:
        srv.stop()
        raise


def start_cycle(name: str, args: argparse.Namespace, limit_s: int) -> Endpoint:
    """A mock on a fresh `large` world of --cycle-size tasks (caps lifted), keys of the roomiest claimers."""
    port = free_port()
    srv = Server(name + "-cycle", server_cmd(name, port, "large", args.cycle_size, uncap=True), limit_s=limit_s)
    srv.start()
    ep = Endpoint(name, srv, port)
    try:
        srv.wait_ready(ready_get(port, "/openapi.yaml"), timeout_s=180)
        keys = http_json(port, "GET", "/__mock/keys")
        pairs, names = claim_keys(port, [a for a in keys["accounts"] if a.get("key")], args.connections)
    except Exception:
        srv.stop()
        raise
    log(f"{name}: cycle world large/{args.cycle_size}, claiming as {', '.join(names)}")
    ep.plans["cycle"] = (
        ep.base,
        {"script": LUA, "env": {"BENCH_KEYS": pairs}},
        {"scenario": "large", "size": args.cycle_size, "uncapped": True, "accounts": names},
    )
    return ep


def run_matrix(
    servers: list[str], targets: list[str], args: argparse.Namespace, errors: list[str]
) -> list[dict[str, Any]]:
    """All servers up at once (idle ones cost nothing); per target the servers back to back, the order rotated
    every round. Returns per round: {server: {target or "ping@<group>": result}}."""
    per_run = args.duration + max(args.warmup, args.prism_warmup) + 15
    limit_s = 180 + args.rounds * (len(targets) + 2) * len(servers) * per_run
    endpoints: dict[str, Endpoint] = {}
    rounds: list[dict[str, Any]] = []
    try:
        for name in servers:
            if name.startswith("mock") and not ({"tasks", "tasks1", "worker"} & set(targets)):
                continue
            try:
                ep = start_endpoint(name, targets, limit_s)
                if ep is not None:
                    endpoints[name] = ep
            except Exception as exc:  # noqa: BLE001 - keep the other rows
                errors.append(f"{name}: {exc}")
                log(f"{name} failed to start: {exc}")
        groups = list(targets) or list(CEILING_GROUPS)
        for rnd in range(max(1, min(args.rounds, 5))):
            this: dict[str, Any] = {}
            order = servers[rnd % len(servers) :] + servers[: rnd % len(servers)]
            for target in groups:
                cycle_eps: dict[str, Endpoint] = {}
                if target == "cycle":
                    for name in order:
                        if name.startswith("mock"):
                            try:
                                cycle_eps[name] = start_cycle(name, args, per_run * 3 + 200)
                            except Exception as exc:  # noqa: BLE001
                                errors.append(f"{name} cycle: {exc}")
                                log(f"{name}: cycle world failed: {exc}")
                try:
                    for name in order:
                        if name.startswith("ceiling"):
                            if target not in CEILING_GROUPS and targets:
                                continue
                            ep, plan, key = endpoints.get(name), "ping", f"ping@{target}"
                        elif target == "cycle" and name.startswith("mock"):
                            ep, plan, key = cycle_eps.get(name), target, target
                        else:
                            ep, plan, key = endpoints.get(name), target, target
                        if ep is None or plan not in ep.plans:
                            continue
                        url, kw, info = ep.plans[plan]
                        log(f"round {rnd + 1}: {key} on {name}")
                        warm = args.prism_warmup if name == "prism" else args.warmup
                        try:
                            res = measure(url, args, warm, **kw)
                        except Exception as exc:  # noqa: BLE001
                            errors.append(f"{name} {key}: {exc}")
                            continue
                        res["fixture"] = info
                        res["rss_kib"] = rss_kib(ep.srv.main_pid())
                        this.setdefault(name, {})[key] = res
                finally:
                    for cep in cycle_eps.values():
                        cep.srv.stop()
            rounds.append(this)
    finally:
        for ep in endpoints.values():
            ep.srv.stop()
    return rounds


# -------------------------------------------------------------------------------------------- tables
def _val(rnd: dict[str, Any], srv: str, key: str, field: str) -> float | None:
    return (rnd.get(srv) or {}).get(key, {}).get(field)


def _ceiling(rnd: dict[str, Any], srv: str, target: str) -> float | None:
    """The ceiling's req/s measured next to `target` in this round (else the round's median ping)."""
    own = _val(rnd, srv, f"ping@{target}", "rps")
    if own:
        return own
    pings = [r["rps"] for k, r in (rnd.get(srv) or {}).items() if k.startswith("ping@") and r.get("rps")]
    return median(pings)


def per_round_ratios(rounds: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, float | None]]:
    out: dict[tuple[str, str], dict[str, float | None]] = {}
    for target in TARGETS:
        for flavour in ("uvicorn", "granian"):
            mock = f"mock-{flavour}"
            vs_prism, p99_vs_prism, vs_ceiling = [], [], []
            for rnd in rounds:
                rps, p99 = _val(rnd, mock, target, "rps"), _val(rnd, mock, target, "p99_ms")
                prps, pp99 = _val(rnd, "prism", target, "rps"), _val(rnd, "prism", target, "p99_ms")
                ceil = _ceiling(rnd, f"ceiling-{flavour}", target)
                if rps and prps:
                    vs_prism.append(rps / prps)
                if p99 and pp99:
                    p99_vs_prism.append(p99 / pp99)
                if rps and ceil:
                    vs_ceiling.append(rps / ceil)
            if vs_prism or vs_ceiling:
                out[(target, flavour)] = {
                    "vs_prism": median(vs_prism),
                    "p99_vs_prism": median(p99_vs_prism),
                    "vs_ceiling": median(vs_ceiling),
                    "n": len(vs_prism),
                }
    return out


def summarize(rounds: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Median over rounds of each server/target's figures (ceiling pings pooled as target `ping`)."""
    cells: dict[str, dict[str, dict[str, list[Any]]]] = {}
    for rnd in rounds:
        for srv, results in rnd.items():
            for key, r in results.items():
                tgt = "ping" if key.startswith("ping@") else key
                cell = cells.setdefault(srv, {}).setdefault(tgt, collections.defaultdict(list))
                for k in ("rps", "p50_ms", "p99_ms", "bytes_per_response", "non_2xx", "loadavg_before"):
                    if r.get(k) is not None:
                        cell[k].append(r[k])
                if r.get("script"):
                    cell["script"].append(r["script"])
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for srv, targets in cells.items():
        for tgt, cell in targets.items():
            o = out.setdefault(srv, {}).setdefault(tgt, {})
            for k in ("rps", "p50_ms", "p99_ms", "bytes_per_response", "loadavg_before"):
                o[k] = median(cell.get(k, []))
            o["non_2xx"] = sum(cell.get("non_2xx", []))
            o["runs"] = len(cell.get("rps", []))
            o["script"] = (cell.get("script") or [None])[-1]
    return out


def _goal(value: float | None, goal: float, applies: bool) -> str:
    if value is None:
        return "–"
    if not applies:
        return "(info)"
    return "met" if value >= goal else "**missed**"


def tables(rounds: list[dict[str, Any]], summary: dict[str, dict[str, dict[str, Any]]]) -> str:
    ratios = per_round_ratios(rounds)
    rows = []
    for (target, flavour), r in ratios.items():
        goal = target in GOAL_TARGETS
        inv = None if not r["p99_vs_prism"] else 1 / r["p99_vs_prism"]
        rows.append(
            [
                LABELS[target],
                flavour,
                fmt_ratio(r["vs_prism"]),
                _goal(r["vs_prism"], 3.0, goal),
                fmt_ratio(r["p99_vs_prism"]),
                _goal(inv, 1.0, goal),
                fmt_ratio(r["vs_ceiling"]),
                _goal(r["vs_ceiling"], 0.5, goal),
            ]
        )
    t1 = md_table(
        [
            "operation",
            "mock on",
            "mock ÷ Prism req/s",
            "goal ≥ 3×",
            "mock ÷ Prism p99",
            "goal ≤ 1×",
            "mock ÷ ceiling req/s (same server)",
            "goal ≥ 0.5×",
        ],
        rows,
    )
    abs_rows = []
    for srv in SERVERS:
        for tgt in (*TARGETS, "ping"):
            c = summary.get(srv, {}).get(tgt)
            if not c or c.get("rps") is None:
                continue
            s = c.get("script")
            mix = f"{s['claimed']} claimed / {s['claims']} claims, {s['patch_ok']} PATCH ok" if s else ""
            abs_rows.append(
                [
                    srv,
                    LABELS[tgt],
                    c["rps"],
                    c["p50_ms"],
                    c["p99_ms"],
                    c["bytes_per_response"],
                    c["non_2xx"],
                    c["loadavg_before"],
                    c["runs"],
                    mix,
                ]
            )
    t2 = md_table(
        [
            "server",
            "operation",
            "req/s",
            "p50 ms",
            "p99 ms",
            "bytes/resp",
            "non-2xx",
            "load avg",
            "runs",
            "cycle mix (last run)",
        ],
        abs_rows,
    )
    n = len(rounds)
    return (
        f"Ratios (computed within each round, median of {n} round{'s' if n != 1 else ''}):\n\n"
        + t1
        + "\n\nAbsolute figures (median of runs):\n\n"
        + t2
    )


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10, help="seconds of each measured wrk run (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="unrecorded seconds before each run (default 2)")
    ap.add_argument("--prism-warmup", type=int, default=5, help="Prism's warm-up (default 5; JIT)")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=2, help="repeat the matrix (1-5); tables show the median")
    ap.add_argument("--cycle-size", type=int, default=20000, help="tasks in the cycle's large world")
    ap.add_argument("--only", default=",".join(SERVERS), help="comma-separated servers: " + ",".join(SERVERS))
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma-separated: " + ",".join(TARGETS))
    ap.add_argument("--no-prism-install", action="store_true", help="skip Prism rows if it is not installed")
    ap.add_argument("--out", help="results file stem (default <timestamp>-http)")
    args = ap.parse_args(argv)
    require_wrk()

    servers = [s.strip() for s in args.only.split(",") if s.strip()]
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if "prism" in servers and ensure_prism(install=not args.no_prism_install) is None:
        servers.remove("prism")
    errors: list[str] = []
    t0 = time.perf_counter()
    rounds = run_matrix(servers, targets, args, errors)
    summary = summarize(rounds)
    md = tables(rounds, summary)
    data = {
        "part": "http_throughput",
        "machine": tool_versions(),
        "args": vars(args),
        "rounds": rounds,
        "summary": summary,
        "ratios": {f"{t}/{f}": r for (t, f), r in per_round_ratios(rounds).items()},
        "errors": errors,
        "elapsed_s": round(time.perf_counter() - t0, 1),
        "markdown": md,
    }
    path = write_results(args.out or f"{timestamp()}-http", data)
    print(md)
    if errors:
        print("\nErrors:\n" + "\n".join(f"- {e}" for e in errors))
    print(f"\nraw results: {path}")
    return data


if __name__ == "__main__":
    main()
