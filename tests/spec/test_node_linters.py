"""Third-party linters over openapi.yaml: Spectral (`spectral:oas`) and openapi-typescript + tsc.

They need the npm packages of package.json (`npm install` puts them in node_modules/); without them the tests are
skipped with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from contracts.spec import DEFAULT_SPEC_PATH

REPO = DEFAULT_SPEC_PATH.parent
BIN = REPO / "node_modules" / ".bin"

pytestmark = pytest.mark.node


def _tool(name: str) -> Path:
    path = BIN / name
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed (needed for the npm linters)")
    if not path.exists():
        pytest.skip(f"{path.relative_to(REPO)} is missing: run `npm install` in {REPO} to install package.json's tools")
    return path


def _run(args: list[str | Path], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    argv = [str(a) for a in args]
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)


def test_spectral_reports_no_errors() -> None:
    spectral = _tool("spectral")
    proc = _run([spectral, "lint", DEFAULT_SPEC_PATH, "-r", REPO / ".spectral.yaml", "-f", "json", "--quiet"])
    # exit 1 means "errors found" (or a failure to run); the JSON tells which
    assert proc.stdout.strip(), f"spectral printed nothing (exit {proc.returncode}): {proc.stderr.strip()}"
    results = json.loads(proc.stdout)
    errors = [r for r in results if r["severity"] == 0]
    assert not errors, "\n".join(f"{r['code']} {'.'.join(map(str, r['path']))}: {r['message']}" for r in errors)
    assert proc.returncode == 0, proc.stderr  # warnings are allowed (`spectral lint` fails only on errors)


def test_openapi_typescript_output_compiles_strictly(tmp_path: Path) -> None:
    generate = _tool("openapi-typescript")
    tsc = _tool("tsc")
    out = tmp_path / "api.d.ts"
    proc = _run([generate, DEFAULT_SPEC_PATH, "-o", out])
    assert proc.returncode == 0, proc.stderr or proc.stdout
    assert out.stat().st_size > 10_000
    text = out.read_text()
    for op_id in ("createTask", "claimTasks", "updateWorker", "exchangeDeviceToken"):
        assert f"{op_id}: {{" in text, f"no operations[{op_id!r}] in the generated types"

    # Use the types the way a client would, so a structurally wrong output fails to compile too.
    usage = tmp_path / "usage.ts"
    usage.write_text(
        'import type { components, operations, paths } from "./api";\n'
        'type Task = components["schemas"]["Task"];\n'
        'const status: Task["status"] = "pending";\n'
        'type Claim = operations["claimTasks"]["requestBody"] extends { content: { "application/json": infer B } } ? B : never;\n'
        'const claim: Claim = { runner: "laptop-01", maxTasks: 2 };\n'
        'type Me = paths["/api/accounts/me"]["get"];\n'
        "const ok: Me extends object ? true : false = true;\n"
        "export { status, claim, ok };\n"
    )
    options = ["--noEmit", "--strict", "--target", "es2020", "--module", "esnext", "--moduleResolution", "bundler"]
    proc = _run([tsc, *options, out, usage])
    assert proc.returncode == 0, proc.stdout + proc.stderr
