from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import main
from contracts.spec import DEFAULT_SPEC_PATH, load_spec

REPO = DEFAULT_SPEC_PATH.parent
_counter = itertools.count()


@pytest.fixture(scope="session")
def real_raw() -> dict[str, Any]:
    """The real spec as loaded (never mutate it; `write_spec` works on a deep copy)."""
    return load_spec(DEFAULT_SPEC_PATH).raw


@pytest.fixture
def write_spec(tmp_path: Path, real_raw: dict[str, Any]) -> Callable[[Callable[[dict[str, Any]], Any]], Path]:
    """Copy the real spec, apply one mutation, write it to a fresh file in tmp_path and return its path."""

    def write(mutate: Callable[[dict[str, Any]], Any]) -> Path:
        raw = copy.deepcopy(real_raw)
        mutate(raw)
        path = tmp_path / f"spec-{next(_counter)}.yaml"  # a fresh name: load_spec caches per path and mtime
        path.write_text(json.dumps(raw, indent=1))  # JSON is YAML, and dumps 20x faster than yaml.safe_dump
        return path

    return write


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run
