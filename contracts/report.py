"""Report sinks: the console (rich progress bars, a summary table, one block per failure), JUnit XML and JSON.

A sink gets `start(...)` once, `progress(suite, what, n)` while suites run and `finish(result)` at the end.
File sinks register in `REPORTERS` by format name; `to_junit` and `to_json` are also usable on their own.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from contracts.registry import Registry
from contracts.results import Outcome

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from contracts.results import RunResult

__all__ = ("REPORTERS", "ConsoleReporter", "JUnitReporter", "JsonReporter", "Reporter", "to_json", "to_junit")


class Reporter:
    """A sink for one run. Subclasses override what they need."""

    def start(self, suites: Sequence[tuple[str, str]], *, seed: int, run_id: str, target: str) -> None:
        pass

    def progress(self, suite: str, what: str, n: int) -> None:
        pass

    def finish(self, result: RunResult) -> None:
        pass


REPORTERS: Registry[Callable[[Path], Reporter]] = Registry("report format")


def reporter(name: str) -> Callable[[type[Reporter]], type[Reporter]]:
    def register(cls: type[Reporter]) -> type[Reporter]:
        REPORTERS.register(name, cls)
        return cls

    return register


# ---------------------------------------------------------------------------------------------- JSON
def to_json(result: RunResult) -> str:
    """The JSON report (sorted keys, stable across runs with the same seed apart from timings)."""
    return json.dumps(result.as_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@reporter("json")
class JsonReporter(Reporter):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def finish(self, result: RunResult) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(to_json(result), encoding="utf-8")


# --------------------------------------------------------------------------------------------- JUnit
def to_junit(result: RunResult) -> str:
    """JUnit XML: one <testsuite> per suite, one <testcase> per operation x rule, <failure>/<skipped> inside."""
    root = ET.Element("testsuites", name="buildd-api check")
    totals = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
    for suite in result.suites:
        cases = suite.checks
        failed = sum(1 for c in cases if c.failures)
        skipped = sum(1 for c in cases if c.outcome.value == "skipped")
        node = ET.SubElement(
            root,
            "testsuite",
            name=suite.name,
            tests=str(len(cases)),
            failures=str(failed),
            skipped=str(skipped),
            errors="1" if suite.error else "0",
            time=f"{suite.duration:.3f}",
        )
        props = ET.SubElement(node, "properties")
        for key, value in (("seed", result.seed), ("run_id", result.run_id), ("target", result.target)):
            ET.SubElement(props, "property", name=key, value=str(value))
        for check in cases:
            case = ET.SubElement(
                node, "testcase", classname=f"buildd.{suite.name}", name=f"{check.operation} [{check.rule}]", time="0"
            )
            if check.failures:
                first = check.failures[0]
                failure = ET.SubElement(
                    case, "failure", type=type(first).__name__, message=f"{first.title}: {first.actual}"[:500]
                )
                failure.text = "\n\n".join(str(f) for f in check.failures)
            elif check.outcome.value == "skipped":
                ET.SubElement(case, "skipped", message=check.reason or "skipped")
        if suite.error:
            ET.SubElement(node, "system-err").text = suite.error
        totals["tests"] += len(cases)
        totals["failures"] += failed
        totals["skipped"] += skipped
        totals["errors"] += 1 if suite.error else 0
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{result.duration:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


@reporter("junit")
class JUnitReporter(Reporter):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def finish(self, result: RunResult) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(to_junit(result), encoding="utf-8")


# ------------------------------------------------------------------------------------------- console
class ConsoleReporter(Reporter):
    """Progress bars on stderr while running; the summary and every failure on stdout at the end."""

    def __init__(self, out: IO[str] | None = None, err: IO[str] | None = None, *, color: bool | None = None) -> None:
        from rich.console import Console

        self.console: Console = Console(
            file=out, no_color=color is False, force_terminal=color, highlight=False, soft_wrap=True
        )
        self.err: Console = Console(file=err, stderr=err is None, no_color=color is False, force_terminal=color)
        if not self.console.is_terminal:  # files and CI logs: do not wrap operations at 80 columns
            self.console.width = 150
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def start(self, suites: Sequence[tuple[str, str]], *, seed: int, run_id: str, target: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.err.print(f"buildd-api check {target}  (seed {seed}, run {run_id})")
        self._progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=False,
            disable=not self.err.is_terminal,
        )
        self._progress.start()
        for name, _ in suites:
            self._tasks[name] = self._progress.add_task(name, total=None)

    def progress(self, suite: str, what: str, n: int) -> None:
        if self._progress is None or suite not in self._tasks:
            return
        task = self._tasks[suite]
        if what == "total":
            current = self._progress.tasks[list(self._tasks).index(suite)].total or 0
            self._progress.update(task, total=current + n)
        elif what == "advance":
            self._progress.advance(task, n)
        elif what == "done":
            t = self._progress.tasks[list(self._tasks).index(suite)]
            self._progress.update(task, total=t.total or t.completed or 1, completed=t.total or t.completed or 1)

    def finish(self, result: RunResult) -> None:
        if self._progress is not None:
            self._progress.stop()
        render(result, self.console)


def render(result: RunResult, console: Console) -> None:
    """Failures first, then what was not verified and why, then a per-suite table, then the verdict."""
    failures = [(s.name, f) for s in result.suites for f in s.failures]
    for index, (suite_name, failure) in enumerate(failures, 1):
        console.print(
            f"[bold red]{index}. {failure.rule}[/bold red]  {failure.title}  [dim]({suite_name})[/dim]", markup=True
        )
        console.print(f"   Operation: {failure.operation}", markup=False)
        console.print(f"   Expected:  {failure.expected}", markup=False)
        console.print(f"   Actual:    {failure.actual}", markup=False)
        if failure.request:
            console.print(f"   Request:   {failure.request}", markup=False)
        console.print(f"   Fix:       {failure.hint}", markup=False)
        console.print()
    _render_not_verified(result, console)
    _render_table(result, console)
    for suite in result.suites:
        for note in suite.notes:
            console.print(f"[yellow]note[/yellow] {suite.name}: {note}", markup=True)
    if result.cleanup.deleted or result.cleanup.leftovers:
        n = len(result.cleanup.deleted)
        console.print(f"cleanup: deleted {n} resource{'' if n == 1 else 's'}", markup=False)
        for leftover in result.cleanup.leftovers[:5]:
            console.print(f"  left behind: {leftover}", markup=False)
        if len(result.cleanup.leftovers) > 5:
            console.print(
                f"  ... and {len(result.cleanup.leftovers) - 5} more (all listed in the JSON report)", markup=False
            )
    coverage = result.coverage
    verdict = (
        "[bold yellow]interrupted[/bold yellow]"
        if result.interrupted
        else (
            "[bold green]all checks passed[/bold green]"
            if result.ok
            else f"[bold red]{len(failures)} failure(s)[/bold red]"
        )
    )
    console.print(
        f"{verdict} — {coverage.verified} checks verified, {coverage.skipped} not verified "
        f"({coverage.ratio * 100:.1f}% coverage), {result.requests} requests in {result.duration:.1f}s; "
        f"seed {result.seed} (reproduce with --seed {result.seed}), run {result.run_id}",
        markup=True,
    )
    for error in result.errors:
        console.print(f"[yellow]suite stopped early[/yellow] {error}", markup=True)
    for problem in result.gate_problems:
        console.print(f"[bold red]gate failed[/bold red] {problem}", markup=True)


def _render_not_verified(result: RunResult, console: Console, limit: int = 12) -> None:
    """Each reason a check was not verified, with how many checks and which rules it hides."""
    coverage = result.coverage
    if not coverage.skipped:
        return
    console.print(f"[bold yellow]not verified: {coverage.skipped} check(s)[/bold yellow]", markup=True)
    rules_by_reason: dict[str, set[str]] = {}
    for _, rule_id, _, reason in coverage.not_verified:
        rules_by_reason.setdefault(reason, set()).add(rule_id)
    reasons = coverage.reasons()
    for reason, count in reasons[:limit]:
        rules = sorted(rules_by_reason[reason])
        shown = ", ".join(rules[:4]) + (f" (+{len(rules) - 4})" if len(rules) > 4 else "")
        console.print(f"  {count:>4}  {reason}  [{shown}]", markup=False)
    if len(reasons) > limit:
        console.print(f"  ... {len(reasons) - limit} more reasons (all in the JSON report)", markup=False)
    console.print()


def _render_table(result: RunResult, console: Console) -> None:
    from rich import box
    from rich.table import Table

    table = Table(title="buildd-api check", box=box.SIMPLE_HEAD, show_lines=False)
    for column in ("suite", "verified", "failed", "not verified", "requests"):
        table.add_column(column, justify="left" if column == "suite" else "right")
    for suite in result.suites:
        failed = suite.count(Outcome.FAILED)
        style = "red" if failed else ""
        table.add_row(
            suite.name,
            str(suite.count(Outcome.PASSED)),
            str(failed),
            str(suite.count(Outcome.SKIPPED) or ""),
            str(suite.requests),
            style=style,
        )
        if suite.error:
            table.add_row(suite.name, f"(stopped: {suite.error})", "", "", "", style="yellow")
    console.print(table)


def write_reports(result: RunResult, paths: dict[str, Any]) -> None:
    """Write each `format -> path` (formats from `REPORTERS`)."""
    for name, path in paths.items():
        if path:
            REPORTERS.get(name)(Path(path)).finish(result)
