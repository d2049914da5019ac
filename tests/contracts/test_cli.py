"""`buildd-api check` against a served mock: 0 clean (valid JUnit and JSON), 1 broken, 2 usage or connection."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from tests.contracts.conftest import OTHER, OWNER, OWNER_EMAIL, mock_session, real_leftovers
from tests.contracts.mutants import BY_NAME, Keys

pytestmark = pytest.mark.http


@pytest.fixture
def env(keys: Any) -> dict[str, str]:
    """Credentials the CI way: environment variables, never on the command line."""
    return {"BUILDD_KEY": keys.key(OWNER), "BUILDD_OTHER_KEY": keys.key(OTHER)}


@pytest.fixture
def broken_mock(world: dict[str, Any], keys: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A served mock whose GET /api/tasks skips auth."""
    from mockserver import MockSettings, create_app
    from mockserver.server import serve_in_thread

    settings = MockSettings(port=0)
    app = create_app(settings, world=copy.deepcopy(world))
    broken = BY_NAME["skips-auth"].apply(app, Keys(owner_key=keys.key(OWNER)), monkeypatch)
    base_url, stop = serve_in_thread(settings, app=broken)
    try:
        yield base_url
    finally:
        stop()


@pytest.mark.timeout(900)  # every suite over all 266 operations: about two minutes alone on 2 cores
def test_the_full_default_check_of_the_mock_passes_and_writes_reports(
    served_mock: str, env: dict[str, str], tmp_path: Path
) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    env = {**env, "BUILDD_SESSION_COOKIE": mock_session(served_mock, OWNER_EMAIL)}
    result = CliRunner().invoke(
        main, ["check", served_mock, "--seed", "5", "--junit", str(junit), "--json", str(report)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "all checks passed" in result.output
    assert env["BUILDD_KEY"] not in result.output

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("failures") == "0"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {
        "auth",
        "status",
        "schemas",
        "ownership",
        "lifecycle",
        "cron",
        "webhooks",
        "devmode",
        "memory",
    }
    names = [case.get("name") for case in suites["ownership"].findall("testcase")]
    assert "GET /api/workers/{id} [ownership.worker-403]" in names
    assert int(root.get("tests", "0")) == sum(int(s.get("tests", "0")) for s in suites.values())

    data = json.loads(report.read_text())
    assert data["ok"] is True and data["exit_code"] == 0 and data["seed"] == 5
    assert data["target"] == served_mock and data["requests"] > 300
    assert data["summary"]["failed"] == 0 and data["failures"] == []
    assert [s["name"] for s in data["suites"]] == list(suites)
    assert real_leftovers(data["cleanup"]["leftovers"]) == []


def test_a_broken_deployment_exits_1_and_names_the_rule(broken_mock: str, env: dict[str, str], tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["check", broken_mock, "--suite", "auth", "--operation", "listTasks", "--json", str(report)], env=env
    )
    assert result.exit_code == 1, result.output
    assert "auth.no-credentials" in result.output and "GET /api/tasks" in result.output
    assert "curl -X GET" in result.output and "Fix:" in result.output
    failures = json.loads(report.read_text())["failures"]
    assert {(f["rule"], f["operation"]) for f in failures} == {("auth.no-credentials", "GET /api/tasks")}
    assert failures[0]["type"] == "AuthNotEnforced" and failures[0]["hint"]


def test_an_unreachable_url_exits_2_with_one_line() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("buildd-api")), "check", "http://127.0.0.1:9", "--suite", "devmode"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach http://127.0.0.1:9"), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_a_missing_key_for_a_suite_that_needs_it_exits_2(served_mock: str) -> None:
    result = CliRunner().invoke(main, ["check", served_mock, "--suite", "ownership"], env={"BUILDD_KEY": ""})
    assert result.exit_code == 2
    assert "needs --key" in result.output


def test_an_unknown_suite_exits_2_and_lists_the_choices(served_mock: str) -> None:
    result = CliRunner().invoke(main, ["check", served_mock, "--suite", "auth,nope"])
    assert result.exit_code == 2
    assert (
        "unknown suite nope" in result.output
        and "auth,status,schemas,ownership,lifecycle,cron,webhooks,memory,devmode" in result.output
    )


def test_a_bad_rate_limit_exits_2(served_mock: str, env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["check", served_mock, "--suite", "devmode", "--rate-limit", "fast"], env=env)
    assert result.exit_code == 2
    assert "invalid --rate-limit" in result.output
