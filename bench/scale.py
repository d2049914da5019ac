"""Scale: the `large` world at 1k, 10k and 100k tasks — memory after load, list and claim latency.

    .venv/bin/python bench/scale.py                          # sizes 0 (baseline), 1000, 10000, 100000
    .venv/bin/python bench/scale.py --sizes 1000,100000 --calls 50

For each size a fresh mock (uvicorn, as `buildd-api serve` runs it) is started by bench/serve.py with
`create_app(world=build_world("large", size=N))` (workspace caps lifted to 1000 so claims take their success
path, see serve.py `_uncap`). Then, sequentially over one keep-alive connection from this process:

- RSS of the server process after load (VmRSS), and the load time (spawn to first answer; build + create_app);
- `GET /api/tasks?limit=50` (a page; key that sees the most tasks): median and p90 of --calls calls;
- `GET /api/tasks` (no limit: the ≤200 active/recent list): median of --calls // 2 calls;
- a claim: `POST /api/workers/claim {"maxTasks": 1}` with the fleet account's key, timed; the worker is then
  PATCHed to completed (timed separately) so the account keeps free slots: median of --calls cycles; then
  --drain more cycles (untimed) and the claim series again: a claim walks the pending queue past every task it
  cannot take, so its cost can grow as the queue drains even when a fresh world answers fast.
The table shows the ratio 100k/1k: ~1 means independent of the store size; ~100 means linear.
Writes bench/results/<timestamp>-scale.json and prints the markdown tables.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import time
from typing import Any

from _common import (
    BENCH,
    HOST,
    PY,
    Server,
    auth,
    fmt_ratio,
    free_port,
    http_json,
    log,
    md_table,
    median,
    percentile,
    ratio,
    ready_get,
    rss_kib,
    timestamp,
    tool_versions,
    write_results,
)


class Conn:
    """One keep-alive HTTP/1.1 connection; `call` returns (status, body, seconds)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.c = http.client.HTTPConnection(HOST, port, timeout=30)

    def call(self, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any, float]:
        headers = auth(key)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        self.c.request(method, path, body=data, headers=headers)
        resp = self.c.getresponse()
        raw = resp.read()
        dt = time.perf_counter() - t0
        return resp.status, (json.loads(raw) if raw else None), dt

    def close(self) -> None:
        self.c.close()


def pick_keys(port: int, conn: Conn) -> tuple[str, str, str, str]:
    """(list key, its account, claim key, its account): the key that sees the most tasks, the roomiest claimer."""
    accounts = [a for a in http_json(port, "GET", "/__mock/keys")["accounts"] if a.get("key")]
    best_list, best_total = accounts[0], -1
    best_claim, best_room = None, -1
    for acc in accounts[:40]:
        status, body, _ = conn.call("GET", "/api/tasks?limit=1", acc["key"])
        if status == 200 and int(body.get("total") or 0) > best_total:
            best_list, best_total = acc, int(body["total"])
        status, me, _ = conn.call("GET", "/api/accounts/me", acc["key"])
        if status != 200 or acc.get("level") == "trigger":
            continue
        room = int(me.get("maxConcurrentWorkers") or 0)
        if room > best_room:
            best_claim, best_room = acc, room
    if best_claim is None:
        raise RuntimeError("no account can claim")
    return best_list["key"], best_list["name"], best_claim["key"], best_claim["name"]


def timed(fn: Any, calls: int, budget_s: float) -> list[float]:
    out: list[float] = []
    deadline = time.perf_counter() + budget_s
    for _ in range(calls):
        if time.perf_counter() > deadline:
            break
        out.append(fn())
    return out


def measure_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    cmd = [
        PY,
        str(BENCH / "serve.py"),
        "--app",
        "mock",
        "--server",
        "uvicorn",
        "--port",
        str(port),
        "--scenario",
        "large",
        "--size",
        str(size),
        "--uncap",
    ]
    res: dict[str, Any] = {"size": size}
    with Server(f"scale-{size}", cmd, limit_s=420) as srv:
        res["load_s"] = srv.wait_ready(ready_get(port, "/openapi.yaml"), timeout_s=300, interval_s=0.05)
        m = re.findall(r"^BENCH-LOAD (.*)$", srv.log_path.read_text(), re.M)
        if m:
            res["load"] = json.loads(m[-1])
        pid = srv.main_pid()
        res["rss_after_load_mib"] = (rss_kib(pid) or 0) / 1024
        conn = Conn(port)
        try:
            list_key, list_acc, claim_key, claim_acc = pick_keys(port, conn)
            res["list_account"], res["claim_account"] = list_acc, claim_acc
            status, body, _ = conn.call("GET", "/api/tasks?limit=50", list_key)
            res["visible_tasks"] = body.get("total") if status == 200 else None

            def page() -> float:
                status, _, dt = conn.call("GET", "/api/tasks?limit=50", list_key)
                assert status == 200, status
                return dt

            def full() -> float:
                status, _, dt = conn.call("GET", "/api/tasks", list_key)
                assert status == 200, status
                return dt

            claimed = 0
            patch_times: list[float] = []

            def claim() -> float:
                nonlocal claimed
                status, body, dt = conn.call(
                    "POST", "/api/workers/claim", claim_key, {"runner": "bench-scale", "maxTasks": 1}
                )
                assert status == 200, (status, body)
                if body["workers"]:
                    claimed += 1
                    st, _, pdt = conn.call(
                        "PATCH",
                        f"/api/workers/{body['workers'][0]['id']}",
                        claim_key,
                        {"status": "completed", "progress": 100, "summary": "bench"},
                    )
                    if st == 200:
                        patch_times.append(pdt)
                else:
                    res.setdefault("claim_diagnostics", body.get("diagnostics"))
                return dt

            for fn in (page, full, claim):
                timed(fn, 3, 10)  # warm-up
            claimed, patch_times = 0, []
            budget = args.budget
            lists = timed(page, args.calls, budget)
            fulls = timed(full, max(5, args.calls // 2), budget)
            claims = timed(claim, args.calls, budget)
            fresh_claimed = claimed
            drained = timed(claim, args.drain, budget) if args.drain else []  # more claim + PATCH cycles
            before_after = claimed
            claims_after = timed(claim, args.calls, budget) if args.drain else []
            after_claimed = claimed - before_after
        finally:
            conn.close()
        res["rss_after_calls_mib"] = (rss_kib(pid) or 0) / 1024
    ms = 1000.0
    res |= {
        "list50_ms": {"median": median(lists) * ms, "p90": percentile(lists, 90) * ms, "n": len(lists)},
        "list_all_ms": {"median": median(fulls) * ms, "p90": percentile(fulls, 90) * ms, "n": len(fulls)},
        "claim_ms": {
            "median": median(claims) * ms,
            "p90": percentile(claims, 90) * ms,
            "n": len(claims),
            "claimed": fresh_claimed,
        },
        "claim_after_drain_ms": {
            "median": (median(claims_after) or 0) * ms,
            "n": len(claims_after),
            "after": len(claims) + len(drained),
            "claimed": after_claimed,
        },
        "patch_ms": {"median": (median(patch_times) or 0) * ms, "n": len(patch_times)},
    }
    return res


def args_drain_label(rows: list[dict[str, Any]]) -> str:
    afters = {r.get("claim_after_drain_ms", {}).get("after") for r in rows if r.get("size")}
    afters.discard(None)
    return "/".join(str(a) for a in sorted(afters)) or "N"


def tables(rows: list[dict[str, Any]]) -> str:
    by = {r["size"]: r for r in rows}
    sizes = sorted(s for s in by if s > 0)
    lo, hi = (sizes[0], sizes[-1]) if sizes else (None, None)

    def g(size: int | None, key: str, sub: str | None = "median") -> float | None:
        if size is None or size not in by:
            return None
        v = by[size].get(key)
        return v.get(sub) if isinstance(v, dict) and sub else v

    base = by.get(0, {}).get("rss_after_load_mib")
    abs_rows = []
    for s in sorted(by):
        r = by[s]
        per_task = ((r["rss_after_load_mib"] - base) * 1024 * 1024 / s) if base and s else None
        abs_rows.append(
            [
                f"{s:,}",
                r.get("visible_tasks"),
                r["load_s"],
                r["rss_after_load_mib"],
                None if per_task is None else round(per_task / 1024, 2),
                g(s, "list50_ms"),
                g(s, "list50_ms", "p90"),
                g(s, "list_all_ms"),
                g(s, "claim_ms"),
                g(s, "claim_ms", "p90"),
                f"{g(s, 'claim_ms', 'claimed')}/{g(s, 'claim_ms', 'n')}",
                g(s, "claim_after_drain_ms"),
                f"{g(s, 'claim_after_drain_ms', 'claimed')}/{g(s, 'claim_after_drain_ms', 'n')}",
                g(s, "patch_ms"),
            ]
        )
    t_abs = md_table(
        [
            "tasks",
            "visible to list key",
            "load s",
            "RSS MiB",
            "KiB/task over empty",
            "list?limit=50 ms (med)",
            "p90",
            "list (no limit) ms",
            "claim ms (med)",
            "p90",
            "claimed/calls",
            f"claim ms after {args_drain_label(rows)} claims",
            "claimed/calls",
            "PATCH ms",
        ],
        abs_rows,
    )
    if lo is None or lo == hi:
        return t_abs
    # the drained series compares sizes whose claims still succeeded (a small world runs out of claimable tasks)
    full = [x for x in sizes if g(x, "claim_after_drain_ms", "claimed") == g(x, "claim_after_drain_ms", "n")]
    lo_d = full[0] if full and full[0] != hi else lo
    ratio_rows = [
        ["`GET /api/tasks?limit=50` median", fmt_ratio(ratio(g(hi, "list50_ms"), g(lo, "list50_ms")))],
        ["`GET /api/tasks` (no limit) median", fmt_ratio(ratio(g(hi, "list_all_ms"), g(lo, "list_all_ms")))],
        ["claim median (fresh world)", fmt_ratio(ratio(g(hi, "claim_ms"), g(lo, "claim_ms")))],
        [
            f"claim median after {args_drain_label(rows)} claims"
            + (f" (vs {lo_d:,}: smaller worlds ran dry)" if lo_d not in (None, lo) else ""),
            fmt_ratio(ratio(g(hi, "claim_after_drain_ms"), g(lo_d, "claim_after_drain_ms"))),
        ],
        ["PATCH worker median", fmt_ratio(ratio(g(hi, "patch_ms"), g(lo, "patch_ms")))],
        ["RSS after load", fmt_ratio(ratio(by[hi]["rss_after_load_mib"], by[lo]["rss_after_load_mib"]))],
        ["load time", fmt_ratio(ratio(by[hi]["load_s"], by[lo]["load_s"]))],
    ]
    t_ratio = md_table([f"{hi:,} / {lo:,} tasks ({hi // lo}× the store)", "ratio"], ratio_rows)
    return t_ratio + "\n\n" + t_abs


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="0,1000,10000,100000", help="0 = the empty-store baseline for memory")
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--budget", type=float, default=30.0, help="seconds at most per measured series")
    ap.add_argument(
        "--drain",
        type=int,
        default=500,
        help="claim + PATCH cycles after the first series, then the claim series again (0: skip)",
    )
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        log(f"scale: size {size}")
        try:
            rows.append(measure_size(size, args))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"size {size}: {exc!r}")
            log(f"size {size} failed: {exc!r}")
    md = tables(rows) if rows else ""
    data = {
        "part": "scale",
        "machine": tool_versions(),
        "args": vars(args),
        "sizes": rows,
        "errors": errors,
        "markdown": md,
    }
    path = write_results(args.out or f"{timestamp()}-scale", data)
    print(md)
    if errors:
        print("\nErrors:\n" + "\n".join(f"- {e}" for e in errors))
    print(f"\nraw results: {path}")
    return data


if __name__ == "__main__":
    main()
