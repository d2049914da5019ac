"""Every benchmark in one go (about 9-10 minutes on a 2-core box), one results file, the markdown tables.

    .venv/bin/python bench/run_all.py                   # throughput, startup, scale, profile
    .venv/bin/python bench/run_all.py --peers           # plus the other engineers' bench scripts
    .venv/bin/python bench/run_all.py --quick           # smoke run (~5 min): 1 round of 5 s, fewer calls
    .venv/bin/python bench/run_all.py --skip profile
    .venv/bin/python bench/run_all.py --whatif          # plus bench/whatif.py (+2.5 min)

Parts (each also runs alone): bench/http_throughput.py, bench/startup.py, bench/scale.py, bench/profile_mock.py
(py-spy if installed in the venv, else cProfile), bench/whatif.py (with --whatif),
and with --peers, when they exist, the other engineers' bench/realtime_fanout.py and bench/contracts_check.py
(run as subprocesses under a time limit; their stdout is kept). Needs wrk (`apt-get update && apt-get install -y wrk`);
Prism 5.16.0 is installed on demand into bench/.prism (git-ignored). Writes bench/results/<timestamp>.json
(git-ignored) with every part's raw results and prints the tables.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path
from typing import Any

import http_throughput
import profile_mock
import scale
import startup
import whatif
from _common import BENCH, PY, ROOT, bench_env, ensure_prism, log, require_wrk, timestamp, tool_versions, write_results

PEERS = {"realtime_fanout": BENCH / "realtime_fanout.py", "contracts_check": BENCH / "contracts_check.py"}


def run_peer(name: str, path: Path, limit_s: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        r = subprocess.run(
            ["timeout", "-k", "5", str(limit_s), PY, str(path)],
            cwd=ROOT,
            env=bench_env(),
            capture_output=True,
            text=True,
            timeout=limit_s + 15,
        )
        return {
            "rc": r.returncode,
            "elapsed_s": round(time.perf_counter() - t0, 1),
            "stdout": r.stdout[-20000:],
            "stderr": r.stderr[-4000:],
        }
    except subprocess.TimeoutExpired as exc:
        return {"rc": None, "error": f"timed out after {limit_s}s", "stdout": str(exc.stdout or "")[-4000:]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="shorter runs for a smoke test (not for the docs)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: http,startup,scale,profile")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of the throughput matrix (default 2)")
    ap.add_argument("--whatif", action="store_true", help="also run bench/whatif.py (+2.5 min)")
    ap.add_argument(
        "--peers",
        action="store_true",
        help="also run bench/realtime_fanout.py and bench/contracts_check.py when present (+1-4 min)",
    )
    ap.add_argument("--peer-limit", type=int, default=240, help="seconds allowed to each peer script")
    args = ap.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    stamp = timestamp()
    require_wrk()
    ensure_prism()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"timestamp": stamp, "machine": tool_versions(), "parts": {}}
    md: list[str] = []

    def part(name: str, title: str, fn: Any) -> None:
        if name in skip:
            return
        log(f"== {title}")
        try:
            data = fn()
        except SystemExit as exc:
            data = {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - one broken part must not lose the others
            data = {"error": repr(exc)}
        out["parts"][name] = data
        md.append(f"## {title}\n\n" + (data.get("markdown") or f"error: {data.get('error')}"))

    q = args.quick
    if q:
        args.rounds = 1
    part(
        "http",
        "Throughput and latency (wrk -t1 -c50)",
        lambda: http_throughput.main(
            ["--out", f"{stamp}-http", "--rounds", str(args.rounds), "--warmup", "1"]
            + (["--duration", "5", "--prism-warmup", "2"] if q else [])
        ),
    )
    part(
        "startup",
        "Startup to first answered request",
        lambda: startup.main(["--out", f"{stamp}-startup"] + (["--runs", "3"] if q else [])),
    )
    part(
        "scale",
        "Scale (large world)",
        lambda: scale.main(
            ["--out", f"{stamp}-scale"]
            + (["--sizes", "1000,10000,100000", "--calls", "20", "--drain", "200"] if q else [])
        ),
    )

    def profile() -> dict[str, Any]:
        prof = profile_mock.main(["--seconds", "4" if q else "5", "--out", f"{stamp}-profile"])
        return {"profiles": prof, "markdown": "\n\n".join(profile_mock.render(t, p) for t, p in prof.items())}

    part("profile", "Profile of the mock under load", profile)
    if args.whatif:
        part("whatif", "What-ifs behind the suggestions", lambda: whatif.main(["--out", f"{stamp}-whatif"]))

    if args.peers:
        for name, path in PEERS.items():
            if path.exists():
                log(f"== peer script {path.name}")
                res = run_peer(name, path, args.peer_limit)
                out["parts"][name] = res
                md.append(f"## {path.name} (rc {res.get('rc')})\n\n```\n{res.get('stdout', '')[-3000:]}\n```")
            else:
                md.append(f"## {path.name}\n\nnot present yet")
    out["elapsed_s"] = round(time.perf_counter() - t0, 1)
    out["markdown"] = "\n\n".join(md)
    path = write_results(stamp, out)
    print("\n\n" + out["markdown"])
    print(f"\nall results: {path}  ({out['elapsed_s']} s)")
    return out


if __name__ == "__main__":
    main()
