"""Shared helpers of the benchmark scripts: servers under `timeout`, readiness polling, wrk, results.

Every server is started as `timeout -k 5 <limit> <cmd>` in its own process group and stopped by that group's id
(the PID we started), so nothing outlives a run even if a script is interrupted. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import datetime as _dt
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The one import set-up of bench/: every script runs as `python bench/<script>.py` (so bench/ is already on the
# path) and imports this module first, which puts the project root there for `mockserver`, `fixtures`, `tests`.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LOGS = RESULTS / "logs"
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
VENV_BIN = Path(PY).parent
PRISM_VERSION = "5.16.0"
PRISM_DIR = BENCH / ".prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
PRISM_INSTALL = [
    "npm",
    "install",
    "--prefix",
    str(PRISM_DIR),
    "--no-audit",
    "--no-fund",
    f"@stoplight/prism-cli@{PRISM_VERSION}",
]
HOST = "127.0.0.1"
# A syntactically valid key for Prism (it accepts any bearer value); the mock gets real fixture keys.
PLAIN_KEY = "bld_" + "0123456789abcdef" * 4
PLAIN_UUID = "2d6f0c1e-8a43-4b7e-9d51-3f0a9c2e7b64"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ environment
def bench_env(**extra: str) -> dict[str, str]:
    """Environment for servers: repo root and bench/ importable, no bytecode surprises, quiet."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(BENCH), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra)
    return env


def require_wrk() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit(
            "wrk is not installed. Install it with:\n    apt-get update && apt-get install -y wrk\n"
            "(or run only the parts that do not need it: bench/startup.py, bench/scale.py)"
        )
    return path


def ensure_prism(install: bool = True) -> Path | None:
    """Prism 5 in bench/.prism (git-ignored), installed on demand. None when unavailable."""
    if PRISM_BIN.exists():
        return PRISM_BIN
    if not install:
        return None
    if not shutil.which("npm"):
        log("npm not found: Prism rows are skipped (install Node.js 20 + npm, then rerun)")
        return None
    log("installing Prism: " + " ".join(PRISM_INSTALL))
    try:
        subprocess.run(PRISM_INSTALL, cwd=ROOT, check=True, timeout=300, stdout=subprocess.DEVNULL)
    except (subprocess.SubprocessError, OSError) as exc:
        log(f"Prism install failed ({exc}); Prism rows are skipped")
        return None
    return PRISM_BIN if PRISM_BIN.exists() else None


def prism_cmd(port: int) -> list[str]:
    return [str(PRISM_BIN), "mock", str(ROOT / "openapi.yaml"), "-h", HOST, "-p", str(port), "-v", "error"]


def mock_serve_cmd(port: int, *extra: str) -> list[str]:
    """`buildd-api serve --port N` exactly as users run it (the venv's entry point, else `python cli.py`)."""
    exe = VENV_BIN / "buildd-api"
    base = [str(exe)] if exe.exists() else [PY, str(ROOT / "cli.py")]
    return [*base, "serve", "--host", HOST, "--port", str(port), *extra]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def tool_versions() -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
    }
    code = (
        "import json,importlib.metadata as m\n"
        "out={}\n"
        "for p in ['litestar','uvicorn','granian','uvloop','httptools','msgspec','pydantic','jsonschema','httpx']:\n"
        "    try: out[p]=m.version(p)\n"
        "    except Exception: out[p]=None\n"
        "print(json.dumps(out))"
    )
    try:
        info["packages"] = json.loads(
            subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=30).stdout
        )
        info["venv_python"] = subprocess.run(
            [PY, "-c", "import platform;print(platform.python_version())"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (subprocess.SubprocessError, ValueError):
        info["packages"] = {}
    for name, cmd in {"wrk": ["wrk", "-v"], "node": ["node", "--version"]}.items():
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            info[name] = (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, subprocess.SubprocessError, IndexError):
            info[name] = None
    info["prism"] = PRISM_VERSION if PRISM_BIN.exists() else None
    return info


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


# ---------------------------------------------------------------------------------------------- HTTP
def http_request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None, timeout: float = 5.0
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def http_json(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
    status, raw = http_request(port, method, path, headers, body)
    if status >= 400:
        raise RuntimeError(f"{method} {path} -> {status}: {raw[:300]!r}")
    return json.loads(raw)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# ------------------------------------------------------------------------------------------- servers
class Server:
    """One server process under `timeout`, in its own process group; a context manager."""

    def __init__(
        self, name: str, cmd: Sequence[str], *, env: dict[str, str] | None = None, limit_s: int = 300, cwd: Path = ROOT
    ) -> None:
        self.name = name
        self.cmd = list(cmd)
        self.env = env or bench_env()
        self.limit_s = limit_s
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.log"

    def start(self) -> Server:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log.write(f"\n==== {time.ctime()} {' '.join(self.cmd)}\n".encode())
        self._log.flush()
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            ["timeout", "-k", "5", str(self.limit_s), *self.cmd],
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def server_pids(self) -> list[int]:
        """The processes below `timeout` (uvicorn: 1; granian: master + worker; prism: node)."""
        return descendants(self.pid)

    def main_pid(self) -> int:
        """The process that holds the application: the deepest descendant with the largest RSS."""
        pids = self.server_pids()
        if not pids:
            return self.pid
        return max(pids, key=lambda p: rss_kib(p) or 0)

    def wait_ready(self, check: Callable[[], bool], timeout_s: float = 60.0, interval_s: float = 0.01) -> float:
        """Poll `check` until it is true; the seconds since start()."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited early (rc={self.proc.returncode}); see {self.log_path}")
            try:
                if check():
                    return time.perf_counter() - self.started_at
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(interval_s)
        raise TimeoutError(f"{self.name} not ready after {timeout_s}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # our own group: the PID we started
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self._log.close()
        self.proc = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo and len(out) < 64:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def ready_get(
    port: int, path: str, headers: dict[str, str] | None = None, ok: Iterable[int] = (200,)
) -> Callable[[], bool]:
    ok = tuple(ok)

    def check() -> bool:
        status, _ = http_request(port, "GET", path, headers, timeout=2.0)
        return status in ok

    return check


# ------------------------------------------------------------------------------------------------ wrk
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_SIZE = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unparsable wrk time {text!r}")
    return float(m.group(1)) * _UNIT[m.group(2)]


def parse_wrk(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"raw": text}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["rps"] = float(m.group(1)) if m else None
    m = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", text)
    out["transfer_bps"] = float(m.group(1)) * _SIZE[m.group(2)] if m else None
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        out[f"p{pct}_ms"] = _ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    out["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = sum(int(g) for g in m.groups()) if m else 0
    if out["rps"] and out["transfer_bps"]:
        out["bytes_per_response"] = round(out["transfer_bps"] / out["rps"])
    m = re.search(r"^BENCHJSON (.*)$", text, re.M)
    if m:
        out["script"] = json.loads(m.group(1))
    return out


def run_wrk(
    url: str,
    *,
    duration_s: int = 10,
    connections: int = 50,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    require_wrk()
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--latency", "--timeout", "5s"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(url)
    run_env = dict(os.environ)
    run_env.update(env or {})
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60, env=run_env)
    res = parse_wrk(r.stdout + r.stderr)
    res["cmd"] = " ".join(_shell_quote(c) for c in cmd)
    return res


def _shell_quote(s: str) -> str:
    return s if re.fullmatch(r"[\w@%+=:,./-]+", s) else "'" + s.replace("'", "'\\''") + "'"


# -------------------------------------------------------------------------------------------- results
def timestamp() -> str:
    return time.strftime("%Y%m%dT%H%M%S")


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(a: float | None, b: float | None) -> float | None:
    if not a or not b:
        return None
    return a / b


def fmt_ratio(r: float | None) -> str:
    return "–" if r is None else f"{r:.2f}×"


def median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def percentile(xs: Sequence[float], pct: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(pct / 100 * (len(s) - 1))))
    return s[k]
