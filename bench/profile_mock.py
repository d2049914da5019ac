"""Where the mock's time goes under load: py-spy (sampling, low overhead) or cProfile, per operation.

    .venv/bin/pip install py-spy                     # bench-only tool; cProfile is the fallback
    .venv/bin/python bench/profile_mock.py                       # tasks, worker, cycle; 8 s of wrk each
    .venv/bin/python bench/profile_mock.py --targets tasks --seconds 10 --tool cprofile

For each target the mock (uvicorn, like `buildd-api serve`) runs under wrk -t1 -c50 while the profiler samples
it; prints the top frames by self time and by inclusive time (own code, Litestar, msgspec...), and writes
bench/results/<timestamp>-profile.json (+ py-spy's collapsed stacks next to it).
"""

from __future__ import annotations

import argparse
import collections
import pstats
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from _common import (
    BENCH,
    PY,
    RESULTS,
    VENV_BIN,
    Server,
    auth,
    free_port,
    http_json,
    log,
    ready_get,
    require_wrk,
    run_wrk,
    timestamp,
    write_results,
)
from http_throughput import LUA, claim_keys, mock_fixture


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def top_from_collapsed(path: Path, n: int = 25) -> dict[str, list[tuple[str, float]]]:
    """Self and inclusive share of samples per frame from py-spy's `--format raw` (collapsed stacks)."""
    self_c: collections.Counter[str] = collections.Counter()
    incl_c: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        c = int(count)
        total += c
        frames = [_frame(f) for f in stack.split(";")]
        self_c[frames[-1]] += c
        for f in set(frames):
            incl_c[f] += c
    if not total:
        return {"self": [], "inclusive": []}
    return {
        "self": [(f, 100.0 * c / total) for f, c in self_c.most_common(n)],
        "inclusive": [
            (f, 100.0 * c / total)
            for f, c in incl_c.most_common(n * 3)
            if not f.startswith(("<module>", "run (", "_run_once", "run_forever", "run_until"))
        ][:n],
        "samples": total,  # type: ignore[dict-item]
    }


def _frame(f: str) -> str:
    # py-spy raw frames: "function (path/to/file.py:123)" -> "function (file.py)" without the line, so one
    # function's samples add up
    name, _, loc = f.partition(" (")
    loc = loc.rstrip(")")
    file = _short(loc.rsplit(":", 1)[0]) if loc else ""
    return f"{name} ({file})"


def top_from_pstats(path: Path, n: int = 25) -> dict[str, list[tuple[str, float]]]:
    st = pstats.Stats(str(path))
    total = st.total_tt or 1.0
    rows = []
    for (file, line, func), (_cc, _nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        rows.append((f"{func} ({_short(file)}:{line})", tt, ct))
    return {
        "self": [(name, 100.0 * tt / total) for name, tt, _ in sorted(rows, key=lambda r: -r[1])[:n]],
        "inclusive": [
            (name, 100.0 * ct / total)
            for name, _, ct in sorted(rows, key=lambda r: -r[2])[: n * 2]
            if not name.startswith(("<module>", "run (", "_run_once"))
        ][:n],
    }


def profile_target(target: str, args: argparse.Namespace, stem: str) -> dict[str, Any]:
    port = free_port()
    sized = target == "cycle"
    cmd = [PY, str(BENCH / "serve.py"), "--app", "mock", "--server", "uvicorn", "--port", str(port)]
    if sized:
        cmd += ["--scenario", "large", "--size", str(args.cycle_size), "--uncap"]
    pstats_path = RESULTS / f"{stem}-{target}.pstats"
    if args.tool == "cprofile":
        cmd += ["--cprofile", str(pstats_path)]
    with Server(f"profile-{target}", cmd, limit_s=args.seconds + 180) as srv:
        srv.wait_ready(ready_get(port, "/openapi.yaml"), timeout_s=120)
        base = f"http://127.0.0.1:{port}"
        if target == "cycle":
            keys = http_json(port, "GET", "/__mock/keys")
            pairs, _ = claim_keys(port, [a for a in keys["accounts"] if a.get("key")], 50)
            wrk_kw: dict[str, Any] = {"script": LUA, "env": {"BENCH_KEYS": pairs}}
            url = base
        else:
            fx = mock_fixture(port)
            wrk_kw = {"headers": auth(fx["key"])}
            url = f"{base}/api/tasks" if target == "tasks" else f"{base}/api/workers/{fx['workerId']}"
        run_wrk(url, duration_s=2, **wrk_kw)  # warm-up
        spy = None
        collapsed = RESULTS / f"{stem}-{target}.collapsed.txt"
        if args.tool == "py-spy":
            spy = subprocess.Popen(
                [
                    "timeout",
                    str(args.seconds + 30),
                    str(VENV_BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(srv.main_pid()),
                    "--duration",
                    str(args.seconds),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    str(collapsed),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(0.5)
        res = run_wrk(url, duration_s=args.seconds, **wrk_kw)
        if spy is not None:
            _, err = spy.communicate(timeout=args.seconds + 40)
            if spy.returncode != 0:
                raise RuntimeError(f"py-spy failed: {err.decode()[-500:]}")
    out: dict[str, Any] = {"rps_under_profiler": res["rps"], "p99_ms": res["p99_ms"], "tool": args.tool}
    if args.tool == "py-spy":
        out |= top_from_collapsed(collapsed, args.top)
        out["collapsed"] = str(collapsed)
    else:
        out |= top_from_pstats(pstats_path, args.top)
        out["pstats"] = str(pstats_path)
    return out


def render(target: str, prof: dict[str, Any]) -> str:
    lines = [
        f"### {target}  ({prof['tool']}, {prof['rps_under_profiler']} req/s while sampled)",
        "",
        "| self % | frame |",
        "|---|---|",
    ]
    lines += [f"| {pct:.1f} | `{name}` |" for name, pct in prof["self"][:15]]
    lines += ["", "| inclusive % | frame |", "|---|---|"]
    lines += [f"| {pct:.1f} | `{name}` |" for name, pct in prof["inclusive"][:25]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default="tasks,worker,cycle")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--cycle-size", type=int, default=20000)
    ap.add_argument("--out", help="results file stem (default <timestamp>-profile)")
    ap.add_argument(
        "--tool",
        choices=["py-spy", "cprofile"],
        default="py-spy" if (VENV_BIN / "py-spy").exists() or shutil.which("py-spy") else "cprofile",
    )
    args = ap.parse_args(argv)
    require_wrk()
    stem = args.out or f"{timestamp()}-profile"
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
        log(f"profiling {target} with {args.tool}")
        results[target] = profile_target(target, args, stem)
        print(render(target, results[target]) + "\n")
    path = write_results(stem, {"part": "profile", "args": vars(args), "profiles": results})
    print(f"raw results: {path}")
    return results


if __name__ == "__main__":
    main()
