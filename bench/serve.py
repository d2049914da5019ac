"""Start the mock or the ceiling app for a benchmark, on uvicorn or granian, 127.0.0.1 only.

    python bench/serve.py --app mock    --server uvicorn --port 4801 [--scenario large --size 10000 --uncap]
    python bench/serve.py --app mock    --server granian --port 4802
    python bench/serve.py --app ceiling --server uvicorn --port 4803 [--cprofile out.pstats]

uvicorn runs the way `buildd-api serve` does (mockserver/server.py): httptools + uvloop, 1 worker, no access log.
granian runs `--interface asgi --workers 1 --no-access-log` (its default loop picks uvloop when installed).
With `--size`, the world is `fixtures.generate.build_world(scenario, size=N)` handed to `create_app(world=...)`;
the time it took to build and load is printed as `BENCH-LOAD {...}` for bench/scale.py.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT

HERE = ROOT / "bench"


def make_mock_app(
    scenario: str | None = None, size: int | None = None, seed: int | None = None, uncap: bool = False
) -> Any:
    """The mock's ASGI app, built through its public entry point `mockserver.create_app`."""
    t0 = time.perf_counter()
    import mockserver

    create_app = mockserver.create_app
    params = inspect.signature(create_app).parameters
    kwargs: dict[str, Any] = {}
    world = None
    t_import = time.perf_counter()
    if size is not None:
        from fixtures.generate import build_world

        bw_kwargs: dict[str, Any] = {"size": size}
        if seed is not None:
            bw_kwargs["seed"] = seed
        world = build_world(scenario or "large", **bw_kwargs)
        if uncap:
            _uncap(world)
    t_world = time.perf_counter()
    settings = _settings(scenario, seed, _env_port())
    if settings is not None:
        kwargs["settings"] = settings
    if world is not None:
        if "world" not in params:
            raise SystemExit("mockserver.create_app has no world= parameter; cannot load a sized world")
        kwargs["world"] = world
    positional = [kwargs.pop("settings")] if "settings" in kwargs and "settings" not in params else []
    app = create_app(*positional, **kwargs)
    t_app = time.perf_counter()
    n_tasks = len(world["tasks"]) if world else None
    print(
        "BENCH-LOAD "
        + json.dumps(
            {
                "import_s": t_import - t0,
                "build_world_s": t_world - t_import,
                "create_app_s": t_app - t_world,
                "tasks": n_tasks,
            }
        ),
        flush=True,
    )
    return app


EXPERIMENTS = ("msgspec-clone", "gc-freeze")


def apply_experiments(names: list[str]) -> None:
    """Bench-only what-ifs that back the optimisation suggestions in docs/benchmarks.md; never what `serve` does.

    msgspec-clone  the store's `clone` (deep copy of JSON records for responses, events, undo) as a msgspec
                   round trip instead of stdlib json: mockserver.domain.store.clone and its import in _base
    gc-freeze      gc.collect() + gc.freeze() once the world is loaded (applied in main, after create_app)
    """
    unknown = set(names) - set(EXPERIMENTS)
    if unknown:
        raise SystemExit(f"unknown experiment(s) {sorted(unknown)}; known: {EXPERIMENTS}")
    if "msgspec-clone" in names:
        import msgspec

        import mockserver.domain._base as base
        import mockserver.domain.store as store

        enc, dec = msgspec.json.encode, msgspec.json.decode

        def clone(value: Any) -> Any:
            return dec(enc(value))

        store.clone = clone
        base.clone = clone


def _uncap(world: dict[str, Any]) -> None:
    """Raise every workspace's maxConcurrentTasks to the spec's maximum (1000).

    The `large` world gives each repo workspace a cap of 100 and its fleets up to 800 live workers; at sizes where
    that fills every workspace (e.g. 5k-20k tasks) every claim answers `all_candidates_deferred`. The benchmarks
    measure the claim that succeeds, so they lift the cap in the world they hand to `create_app(world=...)`.
    """
    for ws in world.get("workspaces", []):
        ws["maxConcurrentTasks"] = max(int(ws.get("maxConcurrentTasks") or 0), 1000)


def _settings(scenario: str | None, seed: int | None, port: int | None = None) -> Any:
    """The mock's `MockSettings` (scenario, seed, port); every other field at its default, as `serve` has it."""
    import mockserver

    cls = getattr(mockserver, "MockSettings", None) or getattr(mockserver, "Settings", None)
    if cls is None:
        return None
    kw: dict[str, Any] = {}
    if scenario:
        kw["scenario"] = scenario
    if seed is not None:
        kw["seed"] = seed
    if port is not None:
        kw["port"] = port
    return cls(**kw)


def _env_port() -> int | None:
    port = os.environ.get("BENCH_PORT")
    return int(port) if port else None


def make_ceiling_app() -> Any:
    from ceiling_app import create_app

    return create_app()


def app_from_env() -> Any:
    """granian --factory target: the app named by BENCH_APP / BENCH_SCENARIO / BENCH_SIZE / BENCH_SEED."""
    which = os.environ.get("BENCH_APP", "mock")
    if which == "ceiling":
        return make_ceiling_app()
    apply_experiments([e for e in os.environ.get("BENCH_EXPERIMENTS", "").split(",") if e])
    size = os.environ.get("BENCH_SIZE")
    seed = os.environ.get("BENCH_SEED")
    return make_mock_app(
        os.environ.get("BENCH_SCENARIO") or None,
        int(size) if size else None,
        int(seed) if seed else None,
        uncap=os.environ.get("BENCH_UNCAP") == "1",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", choices=["mock", "ceiling"], default="mock")
    ap.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scenario")
    ap.add_argument("--size", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--uncap", action="store_true", help="lift workspace caps to 1000 in a sized world")
    ap.add_argument(
        "--experiment",
        action="append",
        default=[],
        choices=EXPERIMENTS,
        help="bench-only what-if, see apply_experiments (repeatable)",
    )
    ap.add_argument("--cprofile", help="write a cProfile of the server's lifetime here (uvicorn only)")
    args = ap.parse_args()

    os.environ["BENCH_APP"] = args.app
    os.environ["BENCH_PORT"] = str(args.port)
    os.environ["BENCH_UNCAP"] = "1" if args.uncap else "0"
    os.environ["BENCH_EXPERIMENTS"] = ",".join(args.experiment)
    for k, v in {"BENCH_SCENARIO": args.scenario, "BENCH_SIZE": args.size, "BENCH_SEED": args.seed}.items():
        if v is not None:
            os.environ[k] = str(v)
        else:
            os.environ.pop(k, None)

    if args.server == "granian":
        cmd = [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "asgi",
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
            "--working-dir",
            str(HERE),
            "--factory",
            "serve:app_from_env",
        ]
        os.execve(cmd[0], cmd, os.environ)

    app = app_from_env()
    if "gc-freeze" in args.experiment:
        import gc

        gc.collect()
        gc.freeze()
    run = _uvicorn_runner(app, args)
    if args.cprofile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
        try:
            run()
        finally:
            prof.disable()
            prof.dump_stats(args.cprofile)
    else:
        run()


def _uvicorn_runner(app: Any, args: argparse.Namespace) -> Any:
    """The mock: exactly `mockserver.server.run`'s uvicorn config (its `bind` + `_server`) around our app.

    The ceiling (or a mock without that module): the same options spelled out here.
    """
    if args.app == "mock":
        try:
            from mockserver.server import _server, bind
        except ImportError:
            pass
        else:
            sock = bind("127.0.0.1", args.port)
            server = _server(app)
            return lambda: server.run(sockets=[sock])
    import uvicorn

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        access_log=False,
        log_level="warning",
        lifespan="auto",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    return server.run


if __name__ == "__main__":
    main()
