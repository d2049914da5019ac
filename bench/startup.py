"""Startup to the first answered request: the mock vs Prism 5 (and the bare Litestar app for reference).

    .venv/bin/python bench/startup.py            # 5 runs each, interleaved; median, min, max
    .venv/bin/python bench/startup.py --runs 9

Measured from spawning the process to the first successful answer, polling every 10 ms:
- mock:    `buildd-api serve --port N` (default scenario) until `GET /openapi.yaml` answers 200;
- Prism:   `prism mock openapi.yaml -v error` until `GET /api/tasks` (plain bearer key) answers 200
           (Prism does not serve the spec document itself: /openapi.yaml is a 404 route miss);
- ceiling: bench/ceiling_app.py on uvicorn until `GET /api/ping` answers 200 (Python + Litestar + uvicorn floor).
Writes bench/results/<timestamp>-startup.json and prints the markdown table.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from _common import (
    BENCH,
    PLAIN_KEY,
    PY,
    Server,
    auth,
    ensure_prism,
    fmt_ratio,
    free_port,
    log,
    md_table,
    median,
    mock_serve_cmd,
    prism_cmd,
    ratio,
    ready_get,
    timestamp,
    tool_versions,
    write_results,
)


def contenders(with_prism: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "mock (buildd-api serve)": (
            lambda p: mock_serve_cmd(p),
            lambda p: ready_get(p, "/openapi.yaml"),
            "GET /openapi.yaml → 200",
        ),
    }
    if with_prism:
        out["Prism 5.16 (-v error)"] = (
            prism_cmd,
            lambda p: ready_get(p, "/api/tasks", auth(PLAIN_KEY)),
            "GET /api/tasks → 200",
        )
    out["ceiling (bare Litestar, uvicorn)"] = (
        lambda p: [PY, str(BENCH / "serve.py"), "--app", "ceiling", "--server", "uvicorn", "--port", str(p)],
        lambda p: ready_get(p, "/api/ping"),
        "GET /api/ping → 200",
    )
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-prism-install", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    with_prism = ensure_prism(install=not args.no_prism_install) is not None
    who = contenders(with_prism)
    times: dict[str, list[float]] = {name: [] for name in who}
    errors: list[str] = []
    for run in range(max(1, min(args.runs, 15))):
        for name, (cmd, check, _) in who.items():
            port = free_port()
            try:
                with Server(f"startup-{name.split()[0]}", cmd(port), limit_s=90) as srv:
                    times[name].append(srv.wait_ready(check(port), timeout_s=60, interval_s=0.01))
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{name} run {run + 1}: {exc}")
            log(f"startup run {run + 1}: {name}: {times[name][-1] if times[name] else 'failed'}")
            time.sleep(0.3)
    mock_name = next(iter(who))
    rows = []
    for name, (_, _, probe) in who.items():
        xs = times[name]
        rows.append(
            [
                name,
                probe,
                median(xs),
                min(xs) if xs else None,
                max(xs) if xs else None,
                len(xs),
                fmt_ratio(ratio(median(xs), median(times[mock_name]))),
            ]
        )
    md = md_table(["server", "first answer", "median s", "min s", "max s", "runs", "÷ mock"], rows)
    data = {
        "part": "startup",
        "machine": tool_versions(),
        "runs": times,
        "errors": errors,
        "markdown": md,
        "medians": {n: median(x) for n, x in times.items()},
    }
    path = write_results(args.out or f"{timestamp()}-startup", data)
    print(md)
    if errors:
        print("\nErrors:\n" + "\n".join(f"- {e}" for e in errors))
    print(f"\nraw results: {path}")
    return data


if __name__ == "__main__":
    main()
