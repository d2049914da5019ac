"""What-ifs behind the optimisation suggestions: the mock as is vs the mock with one bench-only patch.

    .venv/bin/python bench/whatif.py                 # both experiments, ~2.5 min
    .venv/bin/python bench/whatif.py --only msgspec-clone

Experiments (bench/serve.py `--experiment`, applied to the imported mock before `create_app`; never what
`buildd-api serve` does):

- msgspec-clone: `store.clone` as a msgspec round trip instead of stdlib json. Both servers up at once on the
  default world; GET /api/tasks and GET /api/workers/{id}, wrk -t1 -c50 -d10s, order A B B A.
- gc-freeze: `gc.collect(); gc.freeze()` after loading a 100k-task `large` world, so the cyclic GC stops
  re-scanning the ~0.9 M long-lived objects of the store. The claim + PATCH cycle (bench/claim_cycle.lua) on a
  fresh server per run, order A B B A.
Writes bench/results/<timestamp>-whatif.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
from typing import Any

from _common import (
    BENCH,
    PY,
    Server,
    auth,
    fmt_ratio,
    free_port,
    http_json,
    log,
    md_table,
    median,
    ready_get,
    require_wrk,
    run_wrk,
    timestamp,
    write_results,
)
from http_throughput import LUA, claim_keys, mock_fixture


def cmd(port: int, experiments: list[str], *extra: str) -> list[str]:
    out = [PY, str(BENCH / "serve.py"), "--app", "mock", "--server", "uvicorn", "--port", str(port), *extra]
    for e in experiments:
        out += ["--experiment", e]
    return out


def wrk(url: str, args: argparse.Namespace, **kw: Any) -> dict[str, Any]:
    run_wrk(url, duration_s=2, **kw)
    r = run_wrk(url, duration_s=args.duration, **kw)
    return {k: r[k] for k in ("rps", "p50_ms", "p99_ms", "non_2xx")}


def msgspec_clone(args: argparse.Namespace) -> list[list[Any]]:
    results: dict[str, dict[str, list[dict[str, Any]]]] = {"as is": {}, "msgspec-clone": {}}
    pa, pb = free_port(), free_port()
    with (
        Server("whatif-base", cmd(pa, []), limit_s=300) as a,
        Server("whatif-msgspec", cmd(pb, ["msgspec-clone"]), limit_s=300) as b,
    ):
        a.wait_ready(ready_get(pa, "/openapi.yaml"))
        b.wait_ready(ready_get(pb, "/openapi.yaml"))
        fx = {"as is": (pa, mock_fixture(pa)), "msgspec-clone": (pb, mock_fixture(pb))}
        for target in ("tasks", "worker"):
            for variant in ("as is", "msgspec-clone", "msgspec-clone", "as is"):
                port, f = fx[variant]
                path = "/api/tasks" if target == "tasks" else f"/api/workers/{f['workerId']}"
                log(f"whatif msgspec-clone: {target} {variant}")
                results[variant].setdefault(target, []).append(
                    wrk(f"http://127.0.0.1:{port}{path}", args, headers=auth(f["key"]))
                )
    return _rows("store.clone via msgspec", results, ("tasks", "worker"))


def gc_freeze(args: argparse.Namespace) -> list[list[Any]]:
    results: dict[str, dict[str, list[dict[str, Any]]]] = {"as is": {}, "gc-freeze": {}}
    for variant in ("as is", "gc-freeze", "gc-freeze", "as is"):
        port = free_port()
        exps = ["gc-freeze"] if variant == "gc-freeze" else []
        with Server(
            f"whatif-{variant.replace(' ', '')}",
            cmd(port, exps, "--scenario", "large", "--size", str(args.size), "--uncap"),
            limit_s=300,
        ) as srv:
            srv.wait_ready(ready_get(port, "/openapi.yaml"), timeout_s=240)
            keys = http_json(port, "GET", "/__mock/keys")
            pairs, _ = claim_keys(port, [a for a in keys["accounts"] if a.get("key")], 50)
            log(f"whatif gc-freeze: cycle {variant}")
            results[variant].setdefault("cycle", []).append(
                wrk(f"http://127.0.0.1:{port}", args, script=LUA, env={"BENCH_KEYS": pairs})
            )
    return _rows(f"gc.freeze() after load ({args.size:,} tasks)", results, ("cycle",))


def _rows(name: str, results: dict[str, dict[str, list[dict[str, Any]]]], targets: tuple[str, ...]) -> list[list[Any]]:
    base, variant = list(results)
    rows = []
    for t in targets:
        a, b = results[base].get(t, []), results[variant].get(t, [])
        ra, rb = median([r["rps"] for r in a]), median([r["rps"] for r in b])
        pa, pb = median([r["p99_ms"] for r in a]), median([r["p99_ms"] for r in b])
        rows.append(
            [
                name,
                t,
                ra,
                rb,
                fmt_ratio(rb / ra if ra and rb else None),
                pa,
                pb,
                fmt_ratio(pb / pa if pa and pb else None),
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="msgspec-clone,gc-freeze")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--size", type=int, default=100000, help="tasks in the gc-freeze world")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    require_wrk()
    rows: list[list[Any]] = []
    errors: list[str] = []
    for name, fn in (("msgspec-clone", msgspec_clone), ("gc-freeze", gc_freeze)):
        if name in args.only.split(","):
            try:
                rows += fn(args)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{name}: {exc!r}")
    md = md_table(
        ["what-if", "operation", "req/s as is", "req/s patched", "ratio", "p99 ms as is", "p99 ms patched", "ratio"],
        rows,
    )
    path = write_results(
        args.out or f"{timestamp()}-whatif", {"part": "whatif", "rows": rows, "errors": errors, "markdown": md}
    )
    print(md)
    if errors:
        print("\nErrors:\n" + "\n".join(f"- {e}" for e in errors))
    print(f"\nraw results: {path}")
    return {"rows": rows, "errors": errors, "markdown": md}


if __name__ == "__main__":
    main()
