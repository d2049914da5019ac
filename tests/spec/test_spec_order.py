"""`paths-order` (opt-in lint rule) and `buildd-api spec sort`: paths grouped by tag in the order of `tags`, the
/__mock control API last, moved as text so comments and flow style survive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.lint import lint, lint_spec
from contracts.spec import DEFAULT_SPEC_PATH, Spec, parse_yaml
from contracts.spec_order import SortError, misplaced, sort_paths

UNSORTED = """\
openapi: 3.1.0
info: {title: t, version: '1'}
tags:
  - name: accounts
  - name: tasks
  - {name: mock, description: the control API}
paths:
  /__mock/reset:
    post: {operationId: mockReset, tags: [mock], responses: {'200': {description: ok}}}
  # the tasks collection (this comment travels with its path)
  /api/tasks:
    get:
      operationId: listTasks
      tags: [tasks]   # flow style and this comment stay as written
      responses: {'200': {description: ok}}

  # ================================================================== paths of area `x`: an anchor
  # (keep this line: the area's entries go below it)
  '/api/accounts':
    get: {operationId: listAccounts, tags: [accounts], responses: {'200': {description: ok}}}
  /api/tasks/{id}:
    get: {operationId: getTask, tags: [tasks], responses: {'200': {description: ok}}}
# the components
components: {}
"""


def test_misplaced_names_each_path_written_after_a_later_group() -> None:
    wrong = misplaced(parse_yaml(UNSORTED))
    assert [(m.path, m.tag, m.after) for m in wrong] == [
        ("/api/tasks", "tasks", "/__mock/reset"),
        ("/api/accounts", "accounts", "/__mock/reset"),
        ("/api/tasks/{id}", "tasks", "/__mock/reset"),
    ]


def test_sort_moves_blocks_as_text_and_keeps_the_data() -> None:
    out = sort_paths(UNSORTED)
    assert parse_yaml(out) == parse_yaml(UNSORTED) and not misplaced(parse_yaml(out))
    keys = [line.strip() for line in out.splitlines() if line.startswith(("  /", "  '/"))]
    assert keys == ["'/api/accounts':", "/api/tasks:", "/api/tasks/{id}:", "/__mock/reset:"]
    assert "  # the tasks collection (this comment travels with its path)\n  /api/tasks:\n" in out
    assert "tags: [tasks]   # flow style and this comment stay as written" in out
    anchor = out.index("# ====")  # the area anchors stay, after the tagged paths, before the mock API
    assert out.index("/api/tasks/{id}:") < anchor < out.index("/__mock/reset:")
    assert out.endswith("# the components\ncomponents: {}\n")
    assert sort_paths(out) == out  # sorted is a fixed point


def test_sort_refuses_a_layout_it_cannot_be_sure_of() -> None:
    with pytest.raises(SortError, match="not a block mapping"):
        sort_paths("tags: [{name: a}, {name: b}]\npaths: {/x: {get: {tags: [b]}}, /y: {get: {tags: [a]}}}\n")
    with pytest.raises(SortError, match="not valid YAML"):
        sort_paths("paths: [\n")


def test_the_rule_runs_by_default_and_reports_through_lint(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(UNSORTED)
    raw = parse_yaml(UNSORTED)
    assert "paths-order" in lint_spec(Spec(raw, spec, UNSORTED.encode()), rules=None).rules
    findings = lint(spec, rules=["paths-order"]).findings
    assert [f.location for f in findings] == ["/api/tasks", "/api/accounts", "/api/tasks/{id}"]
    assert all("buildd-api spec sort" in f.message for f in findings)


def test_the_repo_spec_sorts_to_the_same_data() -> None:
    """What the lead will run after merging: the real document sorts without losing a byte of data."""
    text = DEFAULT_SPEC_PATH.read_text()
    out = sort_paths(text)
    assert parse_yaml(out) == parse_yaml(text) and not misplaced(parse_yaml(out))
    assert out.count("\n  #") == text.count("\n  #")  # no comment lost


def test_cli_sort_check_then_sort(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(UNSORTED)
    checked = run_cli("spec", "sort", str(spec), "--check")
    assert checked.exit_code == 1 and "out of order" in checked.output and spec.read_text() == UNSORTED
    assert run_cli("spec", "sort", str(spec)).exit_code == 0
    assert not misplaced(parse_yaml(spec.read_text()))
    assert "already in order" in run_cli("spec", "sort", str(spec), "--check").output
    spec.write_text("paths: [\n")
    broken = run_cli("spec", "sort", str(spec))
    assert broken.exit_code != 0 and "Traceback" not in broken.output
