"""Fan-out benchmark of mockserver.realtime: N websocket subscribers x M events, 127.0.0.1 only.

    .venv/bin/python bench/realtime_fanout.py                 # 200 x 2000 + slow-consumer run (~30 s)
    .venv/bin/python bench/realtime_fanout.py -n 50 -m 500    # quicker

The server (only the realtime routes, uvicorn + uvloop + httptools) runs in a child process; this
process holds the subscribers (Python `websockets`, no compression, like pusher-js under Node) and
publishes through the signed Pusher HTTP API (`batch_events`, 10 events a request). The publisher
keeps at most `--window` events ahead of the slowest subscriber, so fast consumers are never
dropped and throughput is the sustained delivery rate. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import logging
import os
import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from _common import free_port

CHANNEL = "workspace-bench"
HARD_LIMIT = 120.0  # seconds: every scenario is cancelled past this


# ---------------------------------------------------------------- server (child process)


def serve(port: int, max_queue: int) -> None:
    import uvicorn
    from litestar import Litestar, get

    from mockserver.realtime import EventHub, RealtimeConfig, realtime_handlers

    logging.getLogger("mockserver.realtime").setLevel(logging.ERROR)  # the slow run drops on purpose
    hub = EventHub(RealtimeConfig(max_queue=max_queue))

    @get("/__bench/stats", sync_to_thread=False)
    def stats() -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            **hub.stats(),
            "vm_hwm_kb": _proc_kb(os.getpid(), "VmHWM"),
            "vm_rss_kb": _proc_kb(os.getpid(), "VmRSS"),
            "cpu_s": usage.ru_utime + usage.ru_stime,
        }

    app = Litestar(route_handlers=[*realtime_handlers(hub), stats], openapi_config=None, logging_config=None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")


def _proc_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- client side


class Server:
    def __init__(self, max_queue: int) -> None:
        from mockserver.realtime import RealtimeConfig

        self.config = RealtimeConfig(max_queue=max_queue)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port), "--max-queue", str(max_queue)]
        )
        self.base = f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, client: Any) -> None:
        deadline = time.monotonic() + 15
        while True:
            try:
                await client.get(f"{self.base}/__bench/stats")
                return
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("bench server did not start") from None
                await asyncio.sleep(0.05)

    async def stats(self, client: Any) -> dict[str, Any]:
        return (await client.get(f"{self.base}/__bench/stats")).json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def signed(server: Server, path: str, body: bytes) -> str:
    from pusher.signature import sign

    params = {
        "auth_key": server.config.key,
        "auth_timestamp": str(int(time.time())),
        "auth_version": "1.0",
        "body_md5": hashlib.md5(body).hexdigest(),
    }
    query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["auth_signature"] = sign(server.config.secret, f"POST\n{path}\n{query}")
    return f"{server.base}{path}?{urlencode(params)}"


@dataclass
class Subscriber:
    count: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    last_at: float = 0.0


async def connect(server: Server, *, slow: bool = False) -> Any:
    from websockets.asyncio.client import connect as ws_connect

    kwargs: dict[str, Any] = {"compression": None, "open_timeout": 10, "max_size": 2**20}
    if slow:  # buffer one frame, tiny kernel window: a consumer that stops reading
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
        kwargs.update(sock=sock, max_queue=1)
    ws = await ws_connect(f"ws://127.0.0.1:{server.port}/app/{server.config.key}?protocol=7", **kwargs)
    assert json.loads(await ws.recv())["event"] == "pusher:connection_established"
    await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": CHANNEL}}))
    assert json.loads(await ws.recv())["event"] == "pusher_internal:subscription_succeeded"
    return ws


async def consume(ws: Any, sub: Subscriber, expected: int) -> None:
    while sub.count < expected:
        frame = json.loads(await ws.recv())
        sub.latencies_ns.append(time.time_ns() - json.loads(frame["data"])["t"])
        sub.count += 1
    sub.last_at = time.perf_counter()


async def publish(client: Any, server: Server, events: int, payload: str, subs: list[Subscriber], window: int) -> float:
    """Send `events` via batch_events; return the perf_counter at the first send."""
    path = f"/apps/{server.config.app_id}/batch_events"
    started = time.perf_counter()
    sent = 0
    while sent < events:
        while subs and sent - min(s.count for s in subs) >= window:
            await asyncio.sleep(0.0005)
        n = min(10, events - sent)
        now = time.time_ns()
        batch = [
            {
                "channel": CHANNEL,
                "name": "worker:progress",
                "data": json.dumps({"seq": sent + i, "t": now, "pad": payload}),
            }
            for i in range(n)
        ]
        body = json.dumps({"batch": batch}).encode()
        response = await client.post(signed(server, path, body), content=body)
        if response.status_code != 200:
            raise RuntimeError(f"batch_events answered {response.status_code}: {response.text}")
        sent += n
    return started


def pct(sorted_values: list[int], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] / 1e6


async def fanout(n: int, m: int, window: int, payload_bytes: int) -> dict[str, Any]:
    import httpx

    server = Server(max_queue=1000)
    try:
        async with httpx.AsyncClient(timeout=10) as client, asyncio.timeout(HARD_LIMIT):
            await server.wait_ready(client)
            sockets = [await connect(server) for _ in range(n)]
            cpu_before = (await server.stats(client))["cpu_s"]
            subs = [Subscriber() for _ in range(n)]
            readers = [asyncio.create_task(consume(ws, sub, m)) for ws, sub in zip(sockets, subs, strict=True)]
            started = await publish(client, server, m, "p" * payload_bytes, subs, window)
            await asyncio.gather(*readers)
            elapsed = max(s.last_at for s in subs) - started
            stats = await server.stats(client)
            for ws in sockets:
                await ws.close()
    finally:
        server.stop()
    latencies = sorted(x for s in subs for x in s.latencies_ns)
    delivered = sum(s.count for s in subs)
    return {
        "delivered": delivered,
        "expected": n * m,
        "elapsed": elapsed,
        "rate": delivered / elapsed,
        "p50": pct(latencies, 0.50),
        "p99": pct(latencies, 0.99),
        "max": latencies[-1] / 1e6,
        "dropped": stats["dropped_slow_consumers"],
        "server_hwm_mb": stats["vm_hwm_kb"] / 1024,
        "peak_queue": stats["peak_queue"],
        "cpu_us": (stats["cpu_s"] - cpu_before) / delivered * 1e6,
    }


async def slow_run(fast: int, slow: int, m: int, max_queue: int) -> dict[str, Any]:
    import httpx

    server = Server(max_queue=max_queue)
    blob = base64.b64encode(os.urandom(6000)).decode()  # 8000 incompressible chars per event
    try:
        async with httpx.AsyncClient(timeout=10) as client, asyncio.timeout(HARD_LIMIT):
            await server.wait_ready(client)
            idle_rss = (await server.stats(client))["vm_rss_kb"] / 1024
            slow_sockets = [await connect(server, slow=True) for _ in range(slow)]
            fast_sockets = [await connect(server) for _ in range(fast)]
            subs = [Subscriber() for _ in range(fast)]
            readers = [asyncio.create_task(consume(ws, sub, m)) for ws, sub in zip(fast_sockets, subs, strict=True)]
            await publish(client, server, m, blob, subs, window=200)
            await asyncio.gather(*readers)
            stats = await server.stats(client)
            for ws in fast_sockets + slow_sockets:
                ws.transport.abort()
    finally:
        server.stop()
    return {
        "fast_delivered": sum(s.count for s in subs),
        "expected": fast * m,
        "dropped": stats["dropped_slow_consumers"],
        "peak_queue": stats["peak_queue"],
        "idle_rss_mb": idle_rss,
        "server_hwm_mb": stats["vm_hwm_kb"] / 1024,
        "unbounded_mb": slow * m * 8000 / 2**20,
        "log_mb": min(m, 10000) * 8000 / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--subscribers", type=int, default=200)
    parser.add_argument("-m", "--events", type=int, default=2000)
    parser.add_argument("--window", type=int, default=500, help="max events ahead of the slowest subscriber")
    parser.add_argument("--payload", type=int, default=200, help="padding bytes per event in the fan-out run")
    parser.add_argument("--slow", type=int, default=10, help="consumers that never read, in the slow run (0: skip)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-queue", type=int, default=1000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.max_queue)
        return
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    t0 = time.perf_counter()
    print(
        f"## realtime fan-out: {args.subscribers} subscribers, ~{args.payload + 60} B events via signed batch_events\n"
    )
    print(
        "| run | delivered | dropped | elapsed s | delivered events/s | p50 ms | p99 ms | max ms | peak queue "
        "| server CPU µs/delivery | server peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    # throughput: up to --window events in flight; paced: one batch of 10 at a time (latency without backlog)
    runs = [
        (f"throughput ({args.events} events, window {args.window})", args.events, args.window),
        (f"paced ({args.events // 20} events, window 10)", args.events // 20, 10),
    ]
    for label, events, window in runs:
        f = asyncio.run(fanout(args.subscribers, events, window, args.payload))
        print(
            f"| {label} | {f['delivered']}/{f['expected']} | {f['dropped']} | {f['elapsed']:.2f} | {f['rate']:,.0f} | "
            f"{f['p50']:.1f} | {f['p99']:.1f} | {f['max']:.1f} | {f['peak_queue']} | {f['cpu_us']:.1f} | "
            f"{f['server_hwm_mb']:.0f} |"
        )
        ok = ok and f["delivered"] == f["expected"] and f["dropped"] == 0
    if args.slow:
        fast_n, events = 20, max(args.events, 2000)  # 2000 x 8 KB overflows kernel buffers + queue
        s = asyncio.run(slow_run(fast_n, args.slow, events, max_queue=1000))
        print(
            f"\n## slow consumers: {args.slow} never read + {fast_n} fast, {events} events x 8000 B, max_queue=1000\n"
        )
        print(
            "| fast delivered | slow dropped | peak queue | server RSS idle MB | server peak RSS MB | "
            "if slow ones were buffered MB | event log share MB |"
        )
        print("|---|---|---|---|---|---|---|")
        print(
            f"| {s['fast_delivered']}/{s['expected']} | {s['dropped']}/{args.slow} | {s['peak_queue']} | "
            f"{s['idle_rss_mb']:.0f} | {s['server_hwm_mb']:.0f} | {s['unbounded_mb']:.0f} | {s['log_mb']:.0f} |"
        )
        ok = ok and s["fast_delivered"] == s["expected"] and s["dropped"] == args.slow and s["peak_queue"] <= 1000
    client_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nbench process peak RSS {client_rss:.0f} MB; wall {time.perf_counter() - t0:.1f} s; "
        f"{'OK' if ok else 'FAILED'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
