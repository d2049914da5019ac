"""Time `buildd-api check` of a served mock beside a plain `st run` with the same budget; print a markdown table.

    .venv/bin/python bench/contracts_check.py [--max-examples 6] [--seed 3] [--runs 1] [--port 0]

Both runs start from the same freshly reset fixture world of one `buildd-api serve` process (uvicorn on a free
127.0.0.1 port) and use the same key, seed, examples per operation and workers (2). `buildd-api check` runs all
suites (auth matrix, ownership with a second team's key, lifecycle, devmode, and the schemathesis engine for
statuses and schemas); `st run` runs every schemathesis check and phase with the one key. Requests are those
the server answered; findings are distinct (rule or check, operation) failures.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import ROOT

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/__mock/clock", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the mock did not come up at {url}")


def run_check(url: str, env: dict[str, str], examples: int, seed: int, out: Path) -> dict[str, Any]:
    report = out / "check.json"
    started = time.perf_counter()
    proc = subprocess.run(
        [
            str(BIN / "buildd-api"),
            "check",
            url,
            "--seed",
            str(seed),
            "--max-examples",
            str(examples),
            "--workers",
            "2",
            "--json",
            str(report),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"buildd-api check failed to run ({proc.returncode}): {proc.stderr.strip()}")
    data = json.loads(report.read_text())
    return {
        "wall": wall,
        "requests": data["requests"],
        "findings": data["summary"]["failures"],
        "rc": proc.returncode,
        "checks": data["summary"]["checks"],
    }


def run_st(url: str, key: str, examples: int, seed: int, out: Path) -> dict[str, Any]:
    report_dir = out / "st"
    started = time.perf_counter()
    proc = subprocess.run(
        [
            str(BIN / "st"),
            "run",
            "openapi.yaml",
            "--url",
            url,
            "-H",
            f"Authorization: Bearer {key}",
            "--max-examples",
            str(examples),
            "--seed",
            str(seed),
            "--workers",
            "2",
            "--exclude-tag",
            "mock",
            "--report",
            "ndjson",
            "--report-dir",
            str(report_dir),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    requests, findings = 0, set()
    for path in glob.glob(str(report_dir / "*.ndjson")):
        for line in Path(path).read_text().splitlines():
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            requests += sum(1 for i in (recorder.get("interactions") or {}).values() if i.get("response"))
            for case_id, checks in (recorder.get("checks") or {}).items():
                label = (recorder.get("cases") or {}).get(case_id, {}).get("value", {})
                where = f"{label.get('method')} {label.get('path')}" if label else recorder["label"]
                findings.update((c["name"], where) for c in checks if c["status"] == "failure")
    return {"wall": wall, "requests": requests, "findings": len(findings), "rc": proc.returncode, "checks": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=6)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--runs", type=int, default=1, help="repeat both and report each")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    from fixtures.keys import default_keys

    keys = default_keys()
    key, other = keys.key("acme-admin"), keys.key("globex-admin")
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "buildd-api"), "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        wait_for(url)
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.runs):
                out = Path(tmp) / str(n)
                out.mkdir()
                post(url + "/__mock/reset", {"scenario": "default"})
                session = post(url + "/__mock/session", {"email": "ada@acme.example"})["token"]
                env = {**os.environ, "BUILDD_KEY": key, "BUILDD_OTHER_KEY": other, "BUILDD_SESSION_COOKIE": session}
                rows.append(("`buildd-api check` (all suites)", run_check(url, env, args.max_examples, args.seed, out)))
                post(url + "/__mock/reset", {"scenario": "default"})
                rows.append(("`st run` (all checks, one key)", run_st(url, key, args.max_examples, args.seed, out)))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

    print(
        f"Mock served by `buildd-api serve` on 127.0.0.1 (uvicorn), default world; --max-examples {args.max_examples}, "
        f"--seed {args.seed}, 2 workers; shared 2-core machine.\n"
    )
    print("| run | wall time | requests | findings | exit |")
    print("|---|---:|---:|---:|---:|")
    for name, row in rows:
        print(f"| {name} | {row['wall']:.1f} s | {row['requests']} | {row['findings']} | {row['rc']} |")


if __name__ == "__main__":
    main()
