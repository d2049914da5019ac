"""The spec against the real server's inventory (tests/data/routes-v0.175.tsv: every method of buildd v0.175.0).

The spec may hold only methods the real server has (plus the mock's own control API), and every inventory
method must be in it, except under the prefixes still being written (`PENDING`, with the issue that adds them).
A prefix leaves `PENDING` when its last method lands; a covered prefix still listed fails, so the list only
shrinks. The report names what is missing, per prefix.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from contracts.spec import load_spec

INVENTORY = Path(__file__).resolve().parents[1] / "data" / "routes-v0.175.tsv"
METHODS = ("get", "put", "post", "patch", "delete")

# path prefix -> the issue that adds its methods (remove a line when the prefix is complete)
PENDING: dict[str, int] = {}
# NextAuth's catch-all: out of scope beyond the session login the mock's control API stands in for
OUT_OF_SCOPE = {("-", "/api/auth/{}")}


def _shape(path: str) -> str:
    """`/api/tasks/[id]`, `/api/tasks/{taskId}` -> `/api/tasks/{}`."""
    return re.sub(r"\{[^}]*\}", "{}", re.sub(r"\[[^\]]*\]", "{}", path))


def _prefix(path: str) -> str:
    return "/".join(path.split("/")[:3])


def inventory() -> set[tuple[str, str]]:
    rows = [line.split("\t") for line in INVENTORY.read_text().splitlines()[1:] if line.strip()]
    return {(method, _shape(path)) for method, path, *_ in rows} - OUT_OF_SCOPE


def in_spec() -> set[tuple[str, str]]:
    paths = load_spec().raw["paths"]
    return {
        (method.upper(), _shape(path))
        for path, item in paths.items()
        if not path.startswith("/__mock")
        for method in item
        if method in METHODS
    }


def missing_by_prefix() -> dict[str, list[str]]:
    missing: dict[str, list[str]] = defaultdict(list)
    for method, path in sorted(inventory() - in_spec(), key=lambda m: (m[1], m[0])):
        missing[_prefix(path)].append(f"{method} {path}")
    return dict(missing)


def test_the_spec_invents_no_method() -> None:
    invented = sorted(in_spec() - inventory())
    assert not invented, f"in the spec but not a method of the real server: {invented}"


def test_every_method_outside_pending_prefixes_is_in_the_spec() -> None:
    unexpected = {prefix: ms for prefix, ms in missing_by_prefix().items() if prefix not in PENDING}
    assert not unexpected, f"methods of the real server missing from the spec: {unexpected}"


def test_pending_lists_only_unfinished_prefixes() -> None:
    finished = sorted(set(PENDING) - set(missing_by_prefix()))
    assert not finished, f"every method of {finished} is in the spec now: remove them from PENDING"


def test_report(capsys: object) -> None:
    """Not a check: prints the coverage (`pytest -s tests/spec/test_inventory.py::test_report`)."""
    total, covered = len(inventory()), len(inventory() & in_spec())
    print(f"\n{covered} of {total} methods of buildd v0.175.0 in the spec")
    for prefix, methods in missing_by_prefix().items():
        print(f"  {prefix} (#{PENDING.get(prefix, '?')}): {len(methods)} missing")
