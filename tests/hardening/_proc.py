"""`buildd-api serve` in a subprocess, for the tests that need a real process: kill -9, restarts, its log.

The server runs as `timeout -k 5 <lifetime> buildd-api serve --port 0 ...` in its own session, so the group id is
the PID we started: `kill()` is a `kill -9` of that group (the server and its `timeout` guard), `stop()` a
SIGTERM with a SIGKILL fallback. Whatever happens in a test, `timeout` ends the server after `lifetime` seconds.
stdout and stderr go to one log file, read back with `output()`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ("MockProcess", "serve_command")

REPO = Path(__file__).resolve().parents[2]
_ANNOUNCE = re.compile(rb"buildd mock on http://127\.0\.0\.1:(\d+)")


def serve_command(*args: str) -> list[str]:
    """`buildd-api serve --host 127.0.0.1 --port 0 ARGS` through the venv's entry point."""
    exe = Path(sys.executable).with_name("buildd-api")
    base = [str(exe)] if exe.exists() else [sys.executable, str(REPO / "cli.py")]
    return [*base, "serve", "--host", "127.0.0.1", "--port", "0", *args]


class MockProcess:
    """One `buildd-api serve` process; a context manager that always ends it."""

    def __init__(self, log_path: Path, *args: str, lifetime: int = 180) -> None:
        self.log_path = log_path
        self.args = args
        self.lifetime = lifetime
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self._offset = 0

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self, ready_timeout: float = 30.0) -> MockProcess:
        assert self.proc is None, "already started"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["timeout", "-k", "5", str(self.lifetime), *serve_command(*self.args)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"buildd-api serve exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            match = _ANNOUNCE.search(self.output().encode())
            if match:
                self.base_url = f"http://127.0.0.1:{int(match.group(1))}"
                try:
                    if httpx.get(f"{self.base_url}/__mock/clock", timeout=2).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"buildd-api serve not ready after {ready_timeout}s:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        """kill -9 the server (its whole process group, which is the PID we started)."""
        self._signal(signal.SIGKILL)
        self._reap(5)

    def stop(self) -> None:
        """A normal stop: SIGTERM (uvicorn shuts down gracefully), SIGKILL if it takes more than 10 s."""
        if self.proc is None:
            return
        self._signal(signal.SIGTERM)
        if not self._reap(10):
            self.kill()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        """What this run of the server printed (stdout and stderr)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._offset)
                return log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def _reap(self, timeout: float) -> bool:
        if self.proc is None:
            return True
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        self.proc = None
        return True

    def __enter__(self) -> MockProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.alive():
            self.kill()
        self.proc = None
