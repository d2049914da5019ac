"""The CLI's rough edges a new user met: each fails in one line with exit 2, or works in a pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_a_state_file_that_is_not_sqlite_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just notes\n" * 100)
    code, output = _run("serve", "--port", "0", "--state-file", str(path))
    assert code == 2
    assert "Traceback" not in output and "DatabaseError" not in output
    assert output.strip() == f"error: cannot use state file {path}: not an SQLite file; pick another --state-file"
    assert path.read_text().startswith("not a database")  # left alone


def test_a_state_file_in_a_missing_folder_is_refused_not_created(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "s.db"
    code, output = _run("serve", "--port", "0", "--state-file", str(path))
    assert code == 2
    assert f"folder {path.parent} does not exist" in output
    assert not (tmp_path / "no").exists()


def test_a_state_file_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    code, output = _run("serve", "--port", "0", "--state-file", str(tmp_path))
    assert code == 2
    assert "Traceback" not in output


@pytest.mark.parametrize("args", [["fixtures", "keys"], ["fixtures", "keys", "--json"]])
def test_fixtures_keys_into_a_closed_pipe_exits_cleanly(args: list[str]) -> None:
    # `buildd-api fixtures keys | head -3` under `set -o pipefail`: the reader is gone before the writer ends.
    # Here it is gone before the writer starts, so the write fails every time (no race).
    read_end, write_end = os.pipe()
    os.close(read_end)
    script = "import sys; from cli import main; sys.argv = ['buildd-api', *sys.argv[1:]]; main()"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script, *args],
            check=False,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("url", ["not-a-url", "ftp://host", "http://", "http://host:port"])
def test_check_names_a_bad_url_before_missing_keys(url: str) -> None:
    code, output = _run("check", url)
    assert code == 2
    assert output.strip() == f"error: {url!r} is not a URL; give the base URL of the server, e.g. http://127.0.0.1:4010"


def test_events_tail_names_a_bad_url() -> None:
    code, output = _run("events", "tail", "--url", "not-a-url", "--limit", "1")
    assert code == 2 and "is not a URL" in output
