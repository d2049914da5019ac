"""What a run found: per suite, per operation and rule, how often a check ran, what failed, what was skipped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from contracts.failures import ContractFailure

__all__ = (
    "NOTHING_JUDGED",
    "REPORT_VERSION",
    "CheckResult",
    "Cleanup",
    "Coverage",
    "Outcome",
    "Recorder",
    "RunResult",
    "SuiteResult",
)

REPORT_VERSION = 2  # 2: skips always carry a reason; a `coverage` section; exit 1 on --fail-on-skip/--min-coverage
NOTHING_JUDGED = "the check ran but saw nothing it could judge"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(slots=True)
class CheckResult:
    """One rule on one operation within one suite."""

    suite: str
    rule: str
    operation: str
    runs: int = 0
    failures: list[ContractFailure] = field(default_factory=list)
    occurrences: int = 0  # failing runs, including duplicates of the failures kept
    skipped: str | None = None

    @property
    def outcome(self) -> Outcome:
        """A rule that judged nothing never passes: no run means skipped (with the reason, or `NOTHING_JUDGED`)."""
        if self.failures:
            return Outcome.FAILED
        if self.runs == 0:
            return Outcome.SKIPPED
        return Outcome.PASSED

    @property
    def reason(self) -> str | None:
        """Why the rule was not verified here (None when it was)."""
        if self.outcome != Outcome.SKIPPED:
            return None
        return self.skipped or NOTHING_JUDGED

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "operation": self.operation,
            "outcome": self.outcome.value,
            "runs": self.runs,
            "failures": len(self.failures),
            "skipped": self.reason,
        }


class Recorder:
    """Thread-safe collector of check outcomes, keyed by (suite, rule, operation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[tuple[str, str, str], CheckResult] = {}
        self._notes: dict[str, list[str]] = {}

    def _get(self, suite: str, rule: str, operation: str) -> CheckResult:
        key = (suite, rule, operation)
        result = self._results.get(key)
        if result is None:
            result = self._results[key] = CheckResult(suite, rule, operation)
        return result

    def passed(self, suite: str, rule: str, operation: str, runs: int = 1) -> None:
        with self._lock:
            self._get(suite, rule, operation).runs += runs

    def failed(self, suite: str, failure: ContractFailure) -> None:
        with self._lock:
            result = self._get(suite, failure.rule, failure.operation or "-")
            result.runs += 1
            result.occurrences += 1
            if failure not in result.failures:
                result.failures.append(failure)

    def skipped(self, suite: str, rule: str, operation: str, reason: str) -> None:
        with self._lock:
            result = self._get(suite, rule, operation)
            if result.skipped is None:
                result.skipped = reason

    def note(self, suite: str, text: str) -> None:
        with self._lock:
            notes = self._notes.setdefault(suite, [])
            if text not in notes:
                notes.append(text)

    def for_suite(self, suite: str) -> list[CheckResult]:
        with self._lock:
            found = [r for (s, _, _), r in self._results.items() if s == suite]
        return sorted(found, key=lambda r: (r.operation, r.rule))

    def notes(self, suite: str) -> list[str]:
        with self._lock:
            return list(self._notes.get(suite, ()))


@dataclass(slots=True)
class SuiteResult:
    name: str
    title: str
    checks: list[CheckResult]
    duration: float
    requests: int
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the suite could not run to its end (its checks so far still count)

    @property
    def failures(self) -> list[ContractFailure]:
        return [f for check in self.checks for f in check.failures]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for check in self.checks if check.outcome == outcome)

    def by_operation(self) -> Iterator[tuple[str, int, int, int]]:
        """(operation, checks run, failures, skipped rules) per operation, sorted."""
        table: dict[str, list[int]] = {}
        for check in self.checks:
            row = table.setdefault(check.operation, [0, 0, 0])
            row[0] += check.runs
            row[1] += len(check.failures)
            row[2] += 1 if check.outcome == Outcome.SKIPPED else 0
        for operation in sorted(table):
            runs, failures, skipped = table[operation]
            yield operation, runs, failures, skipped

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "duration": round(self.duration, 3),
            "requests": self.requests,
            "passed": self.count(Outcome.PASSED),
            "failed": self.count(Outcome.FAILED),
            "skipped": self.count(Outcome.SKIPPED),
            "error": self.error,
            "notes": self.notes,
            "checks": [c.as_dict() for c in self.checks],
        }


@dataclass(slots=True)
class Coverage:
    """How much of what was selected was verified, per rule and per operation, and what was not and why."""

    verified: int
    skipped: int
    by_rule: dict[str, tuple[int, int]]  # rule -> (verified, skipped)
    by_operation: dict[str, tuple[int, int]]
    not_verified: list[tuple[str, str, str, str]]  # (suite, rule, operation, reason)

    @classmethod
    def of(cls, suites: list[SuiteResult]) -> Coverage:
        by_rule: dict[str, list[int]] = {}
        by_operation: dict[str, list[int]] = {}
        not_verified: list[tuple[str, str, str, str]] = []
        for suite in suites:
            for check in suite.checks:
                skipped = check.outcome == Outcome.SKIPPED
                for table, key in ((by_rule, check.rule), (by_operation, check.operation)):
                    row = table.setdefault(key, [0, 0])
                    row[1 if skipped else 0] += 1
                if skipped:
                    not_verified.append((suite.name, check.rule, check.operation, check.reason or NOTHING_JUDGED))
        verified = sum(v for v, _ in by_rule.values())
        return cls(
            verified=verified,
            skipped=len(not_verified),
            by_rule={k: (v[0], v[1]) for k, v in sorted(by_rule.items())},
            by_operation={k: (v[0], v[1]) for k, v in sorted(by_operation.items())},
            not_verified=not_verified,
        )

    @property
    def ratio(self) -> float:
        """Verified share of the checks (1.0 when nothing was selected)."""
        total = self.verified + self.skipped
        return self.verified / total if total else 1.0

    def reasons(self) -> list[tuple[str, int]]:
        """Each distinct skip reason with how many checks it covers, most frequent first."""
        counts: dict[str, int] = {}
        for _, _, _, reason in self.not_verified:
            counts[reason] = counts.get(reason, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "skipped": self.skipped,
            "ratio": round(self.ratio, 4),
            "reasons": [{"reason": r, "checks": n} for r, n in self.reasons()],
            "by_rule": {k: {"verified": v, "skipped": s} for k, (v, s) in self.by_rule.items()},
            "by_operation": {k: {"verified": v, "skipped": s} for k, (v, s) in self.by_operation.items()},
            "not_verified": [
                {"suite": s, "rule": r, "operation": o, "reason": why} for s, r, o, why in self.not_verified
            ],
        }


@dataclass(slots=True)
class Cleanup:
    """What the run created and whether it was removed again."""

    deleted: list[str] = field(default_factory=list)  # "task 6f1c..."
    leftovers: list[str] = field(default_factory=list)  # "workspace 2d6f... (needs --session-cookie to delete)"

    def as_dict(self) -> dict[str, Any]:
        return {"deleted": len(self.deleted), "leftovers": self.leftovers}


@dataclass(slots=True)
class RunResult:
    """The outcome of `contracts.run(...)`; `exit_code` is what `buildd-api check` exits with."""

    run_id: str
    seed: int
    target: str
    read_only: bool
    started_at: str
    duration: float
    suites: list[SuiteResult]
    requests: int
    cleanup: Cleanup = field(default_factory=Cleanup)
    interrupted: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def failures(self) -> list[ContractFailure]:
        return [f for suite in self.suites for f in suite.failures]

    @property
    def errors(self) -> list[str]:
        """Suites that could not run to their end (besides an interruption)."""
        return [f"{s.name}: {s.error}" for s in self.suites if s.error and s.error != "interrupted"]

    @property
    def coverage(self) -> Coverage:
        return Coverage.of(self.suites)

    @property
    def gate_problems(self) -> list[str]:
        """Why the CI gates (`--fail-on-skip`, `--min-coverage`) fail this run, if they do."""
        coverage = self.coverage
        problems = []
        if self.options.get("fail_on_skip") and coverage.skipped:
            problems.append(f"--fail-on-skip: {coverage.skipped} check(s) not verified")
        floor = self.options.get("min_coverage")
        if floor is not None and coverage.ratio * 100 < float(floor):
            problems.append(f"--min-coverage {float(floor):g}: only {coverage.ratio * 100:.1f}% of the checks verified")
        return problems

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted and not self.errors and not self.gate_problems

    @property
    def exit_code(self) -> int:
        """0 all passed; 1 violations found (or a suite could not finish, or a CI gate failed); 130 interrupted."""
        if self.interrupted:
            return 130
        return 0 if self.ok else 1

    def as_dict(self) -> dict[str, Any]:
        """The JSON report (format documented in docs/contracts.md)."""
        failures = []
        for suite in self.suites:
            for check in suite.checks:
                for failure in check.failures:
                    failures.append({"suite": suite.name, **failure.as_dict()})
        return {
            "version": REPORT_VERSION,
            "tool": "buildd-api check",
            "run_id": self.run_id,
            "seed": self.seed,
            "target": self.target,
            "read_only": self.read_only,
            "started_at": self.started_at,
            "duration": round(self.duration, 3),
            "requests": self.requests,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "interrupted": self.interrupted,
            "errors": self.errors,
            "gates": self.gate_problems,
            "coverage": self.coverage.as_dict(),
            "options": self.options,
            "summary": {
                "suites": len(self.suites),
                "checks": sum(len(s.checks) for s in self.suites),
                "passed": sum(s.count(Outcome.PASSED) for s in self.suites),
                "failed": sum(s.count(Outcome.FAILED) for s in self.suites),
                "skipped": sum(s.count(Outcome.SKIPPED) for s in self.suites),
                "failures": len(failures),
            },
            "suites": [s.as_dict() for s in self.suites],
            "failures": failures,
            "cleanup": self.cleanup.as_dict(),
        }
