"""The tool works installed from its wheel, from outside the checkout: every run-time asset ships in the package.

Builds the wheel once, installs it with `--no-deps` into a fresh venv whose only other path is this venv's
site-packages (the dependencies, offline and cheap; the checkout's editable finder is not loaded from there),
then runs `serve`, `check`, `fixtures keys` and `spec lint` from a temporary directory.
`.ci/run` also does a full `pip install` of the wheel into a clean venv.
"""

from __future__ import annotations

import json
import os
import site
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

# one worker builds the wheel: `pip wheel` writes build/ inside the checkout
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin/` of a fresh venv holding the built wheel."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", root / "dist", REPO],
        check=True,
        timeout=240,
        cwd=root,
    )
    wheel = next((root / "dist").glob("buildd_api_kit-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
    purelib = next(venv.glob("lib/python*/site-packages"))
    (purelib / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps", wheel],
        check=True,
        timeout=240,
    )
    return venv / "bin"


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("elsewhere")


def _run(bin_dir: Path, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BUILDD_SPEC", "PYTHONPATH")}
    return subprocess.run(
        [str(bin_dir / "buildd-api"), *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_the_installed_package_is_not_the_checkout(installed: Path, outside: Path) -> None:
    code = "import contracts.spec as s; print(s.DEFAULT_SPEC_PATH)"
    proc = subprocess.run(
        [installed / "python", "-c", code], check=False, cwd=outside, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert not proc.stdout.strip().startswith(str(REPO) + os.sep), proc.stdout
    assert "site-packages" in proc.stdout


def test_spec_lint_from_the_wheel(installed: Path, outside: Path) -> None:
    proc = _run(installed, outside, "spec", "lint")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "clean" in proc.stdout


def test_fixtures_keys_from_the_wheel(installed: Path, outside: Path) -> None:
    proc = _run(installed, outside, "fixtures", "keys", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["accounts"]


@pytest.fixture(scope="module")
def served(installed: Path, outside: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(installed / "buildd-api"), "serve", "--port", str(port)],
        cwd=outside,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # bounded wait for the port
            if proc.poll() is not None:
                pytest.fail(f"serve exited {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
            try:
                urllib.request.urlopen(f"{base}/openapi.yaml", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("serve did not answer")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_from_the_wheel_answers(served: str, installed: Path, outside: Path) -> None:
    keys = json.loads(_run(installed, outside, "fixtures", "keys", "--json").stdout)["accounts"]
    request = urllib.request.Request(f"{served}/api/tasks", headers={"Authorization": f"Bearer {keys[0]['key']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert "tasks" in json.loads(response.read())


def test_check_from_the_wheel(served: str, installed: Path, outside: Path) -> None:
    keys = json.loads(_run(installed, outside, "fixtures", "keys", "--json").stdout)["accounts"]
    proc = _run(
        installed,
        outside,
        "check",
        served,
        "--key",
        keys[0]["key"],
        "--suite",
        "auth",
        "--max-examples",
        "1",
        "--no-coverage",
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_docs_and_console_from_the_wheel(served: str) -> None:
    for path, marker in (
        ("/docs", b"swagger-ui-bundle.js"),
        ("/docs/assets/swagger-ui-bundle.js", b"SwaggerUIBundle"),
        ("/docs/assets/docs.js", b"preauthorizeApiKey"),
        ("/__mock/console", b"console.js"),
        ("/__mock/console/assets/console.js", b"EventSource"),
    ):
        with urllib.request.urlopen(f"{served}{path}", timeout=10) as response:
            assert response.status == 200
            assert marker in response.read(), path
