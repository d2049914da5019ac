"""The throughput benchmark (§1 of docs/benchmarks.md) for two git revisions side by side, in one run.

    .venv/bin/python bench/compare_commits.py main HEAD                    # GET targets, 2 rounds (~3 min)
    .venv/bin/python bench/compare_commits.py main core --targets tasks,worker,cycle --rounds 3
    .venv/bin/python bench/compare_commits.py main HEAD --duration 3 --warmup 1 --rounds 1   # smoke run

Each revision is exported (`git archive`, so the repository's worktree list and index stay untouched) into its own
directory under /tmp and served by `python cli.py serve` from there, with this checkout's venv and the export first
on PYTHONPATH, so the two servers differ only in the project's code. Both run at once on uvicorn, the same world
(`--scenario`, default `default`) and the same fixture key and worker; per target the two run back to back in an
order that alternates every round, each after an unrecorded warm-up (the method of bench/http_throughput.py).
Prints per target req/s, p50 and p99 of both and the ratio B/A (median of the rounds' ratios: above 1 means B
serves more requests per second; for latency, below 1 means B is faster). Writes
bench/results/<timestamp>-compare.json. The exports are removed at the end, the servers stopped by process group.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from _common import (
    PY,
    ROOT,
    Server,
    auth,
    bench_env,
    fmt_ratio,
    free_port,
    http_json,
    log,
    md_table,
    median,
    ready_get,
    require_wrk,
    timestamp,
    write_results,
)
from http_throughput import LABELS, LUA, claim_keys, loadavg, measure, mock_fixture

TARGETS = ("tasks", "tasks1", "worker", "cycle")
DEFAULT_TARGETS = ("tasks", "tasks1", "worker")  # the cycle needs a large world per revision: opt in


def export(rev: str, into: Path) -> str:
    """`rev`'s tree in `into`; returns the commit it resolved to."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"], capture_output=True, text=True
    )
    if commit.returncode != 0:
        raise SystemExit(f"compare_commits: unknown revision {rev!r}")
    sha = commit.stdout.strip()
    into.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", sha], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f"compare_commits: git archive {sha} failed")
    return sha


def start(label: str, tree: Path, scenario: str, size: int | None = None) -> tuple[Server, int]:
    port = free_port()
    cmd = [PY, "cli.py", "serve", "--host", "127.0.0.1", "--port", str(port), "--scenario", scenario]
    if size:  # the cycle: bench/serve.py of that revision builds the large world with the caps lifted
        cmd = [PY, "bench/serve.py", "--app", "mock", "--server", "uvicorn", "--port", str(port)]
        cmd += ["--scenario", scenario, "--size", str(size), "--uncap"]
    env = bench_env(PYTHONPATH=f"{tree}:{tree / 'bench'}", BUILDD_SPEC=str(tree / "openapi.yaml"))
    srv = Server(f"compare-{label}{'-cycle' if size else ''}", cmd, env=env, cwd=tree, limit_s=3600).start()
    srv.wait_ready(ready_get(port, "/openapi.yaml"), timeout_s=240 if size else 90)
    return srv, port


def plans(port: int, targets: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    base = f"http://127.0.0.1:{port}"
    fx = mock_fixture(port)
    hdr = {"headers": auth(fx["key"])}
    out = {"tasks": (f"{base}/api/tasks", hdr), "worker": (f"{base}/api/workers/{fx['workerId']}", hdr)}
    if fx["one_task_query"]:
        out["tasks1"] = (f"{base}/api/tasks?{fx['one_task_query']}", hdr)
    return {t: p for t, p in out.items() if t in targets}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", nargs="?", default="main", help="the base revision (default main)")
    ap.add_argument("b", nargs="?", default="HEAD", help="the revision compared with it (default HEAD)")
    ap.add_argument("--targets", default=",".join(DEFAULT_TARGETS), help="comma-separated: " + ",".join(TARGETS))
    ap.add_argument("--rounds", type=int, default=2, help="repeat (1-5); the table shows the median ratio")
    ap.add_argument("--duration", type=int, default=10, help="seconds of each measured wrk run (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="unrecorded seconds before each run (default 2)")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--scenario", default="default", help="fixture world of both servers (default `default`)")
    ap.add_argument("--cycle-size", type=int, default=20000, help="tasks in the cycle's large world")
    args = ap.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    if unknown := sorted(set(targets) - set(TARGETS)):
        raise SystemExit(f"compare_commits: unknown targets {unknown}; choose from {', '.join(TARGETS)}")
    args.rounds = max(1, min(args.rounds, 5))
    require_wrk()
    work = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    servers: list[Server] = []
    try:
        revs = {"A": args.a, "B": args.b}
        shas = {side: export(rev, work / side) for side, rev in revs.items()}
        log(f"A = {args.a} ({shas['A'][:12]}), B = {args.b} ({shas['B'][:12]}), exported under {work}")
        urls: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}
        for side in revs:
            if set(targets) - {"cycle"}:
                srv, port = start(side, work / side, args.scenario)
                servers.append(srv)
                urls[side] = plans(port, targets)
            if "cycle" in targets:
                srv, port = start(side, work / side, "large", args.cycle_size)
                servers.append(srv)
                pairs, _ = claim_keys(
                    port,
                    [a for a in http_json(port, "GET", "/__mock/keys")["accounts"] if a.get("key")],
                    args.connections,
                )
                urls.setdefault(side, {})["cycle"] = (
                    f"http://127.0.0.1:{port}",
                    {"script": LUA, "env": {"BENCH_KEYS": pairs}},
                )
        rounds: list[dict[str, dict[str, dict[str, Any]]]] = []
        for n in range(args.rounds):
            order = ["A", "B"] if n % 2 == 0 else ["B", "A"]
            rnd: dict[str, dict[str, dict[str, Any]]] = {}
            for target in targets:
                if not all(target in urls[side] for side in revs):
                    log(f"{target}: not measurable on both revisions, skipped")
                    continue
                for side in order:
                    url, kw = urls[side][target]
                    res = measure(url, args, args.warmup, **kw)
                    rnd.setdefault(target, {})[side] = res
                    log(
                        f"round {n + 1} {target} {side}: {res['rps']} req/s, p99 {res['p99_ms']} ms "
                        f"(non-2xx {res['non_2xx']}, load {loadavg()})"
                    )
            rounds.append(rnd)
    finally:
        for srv in servers:
            srv.stop()
        shutil.rmtree(work, ignore_errors=True)

    def ratio(target: str, field: str) -> float | None:
        values = [
            r[target]["B"][field] / r[target]["A"][field]
            for r in rounds
            if target in r and r[target]["A"].get(field) and r[target]["B"].get(field)
        ]
        return median(values)

    def med(target: str, side: str, field: str) -> float | None:
        return median([r[target][side][field] for r in rounds if target in r and r[target][side].get(field)])

    rows = []
    summary: dict[str, Any] = {}
    for target in targets:
        if not any(target in r for r in rounds):
            continue
        summary[target] = {
            "rps": {"A": med(target, "A", "rps"), "B": med(target, "B", "rps"), "B/A": ratio(target, "rps")},
            "p50_ms": {
                "A": med(target, "A", "p50_ms"),
                "B": med(target, "B", "p50_ms"),
                "B/A": ratio(target, "p50_ms"),
            },
            "p99_ms": {
                "A": med(target, "A", "p99_ms"),
                "B": med(target, "B", "p99_ms"),
                "B/A": ratio(target, "p99_ms"),
            },
        }
        s = summary[target]
        rows.append(
            [
                LABELS[target],
                f"{s['rps']['A']:.0f}" if s["rps"]["A"] else "-",
                f"{s['rps']['B']:.0f}" if s["rps"]["B"] else "-",
                fmt_ratio(s["rps"]["B/A"]),
                fmt_ratio(s["p50_ms"]["B/A"]),
                fmt_ratio(s["p99_ms"]["B/A"]),
            ]
        )
    a, b = f"{args.a} ({shas['A'][:8]})", f"{args.b} ({shas['B'][:8]})"
    print(f"\nA = {a}, B = {b}; median of {len(rounds)} round(s), wrk -c{args.connections} -d{args.duration}s\n")
    print(md_table(["operation", "A req/s", "B req/s", "req/s B/A", "p50 B/A", "p99 B/A"], rows))
    data = {"a": args.a, "b": args.b, "shas": shas, "args": vars(args), "rounds": rounds, "summary": summary}
    path = write_results(f"{timestamp()}-compare", data)
    log(f"results: {path}")
    return data


if __name__ == "__main__":
    main()
