"""Registries of suites and rules. Suites and rules register by decorator; the CLI takes its choices from here.

    @suite("auth", title="Authentication", order=10, needs=("key",))
    def run_auth(ctx: SuiteContext) -> None: ...

    @rule("auth.no-credentials", suite="auth", failure=AuthNotEnforced, title="No credentials → 401")
    def no_credentials(ctx: SuiteContext, subject: Subject) -> None:
        op, plan = subject.operation()
        ...

Every check has that one signature, `(ctx, subject)`: the suite decides what a `Subject` carries (an operation
and its request plan, the lifecycle flow, or only the label of a probe) and runs each rule once per subject.

Rule ids are stable: they appear in reports, JUnit test names and docs/contracts.md. An id may be a
template (`ownership.{resource}-{status}`) when the spec's `x-ownership` rules spell out the concrete ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from contracts.checks.lifecycle import Flow
    from contracts.context import SuiteContext
    from contracts.failures import ContractFailure
    from contracts.plan import RequestPlan
    from contracts.spec import Operation

__all__ = (
    "RULES",
    "SUITES",
    "Check",
    "EngineRule",
    "Registry",
    "Rule",
    "Subject",
    "Suite",
    "declare",
    "rule",
    "suite",
    "suite_names",
)

T = TypeVar("T")
C = TypeVar("C", bound=Callable[..., None])


class Registry(Generic[T]):
    """Name -> item, in registration order; registering a different item under a taken name is an error."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        existing = self._items.get(name)
        if existing is not None and existing is not item and not _same_origin(existing, item):
            raise ValueError(f"{self.kind} {name!r} is already registered by {getattr(existing, 'origin', existing)}")
        self._items[name] = item  # same origin: a module executed again (reload) replaces its own entry
        return item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise LookupError(f"unknown {self.kind} {name!r}; choose from: {', '.join(self._items)}") from None

    def names(self) -> list[str]:
        return list(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)


def _same_origin(a: Any, b: Any) -> bool:
    fa, fb = getattr(a, "origin", None), getattr(b, "origin", None)
    return fa is not None and fa == fb


@dataclass(frozen=True, slots=True)
class EngineRule:
    """How a schemathesis check's findings are reported: under which rule id, as which failure type."""

    rule: str
    failure: type[ContractFailure]
    expected: str


@dataclass(frozen=True, slots=True)
class Suite:
    """A family of rules run together; `engine` checks run inside one shared schemathesis engine run."""

    name: str
    title: str
    order: int
    run: Callable[[SuiteContext], None] | None
    needs: tuple[str, ...] = ("key",)
    mutates: bool = False  # whether it writes (skipped or narrowed under --read-only)
    engine: Mapping[str, EngineRule] = field(default_factory=dict)
    description: str = ""
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Subject:
    """What one run of a rule's check is about; each suite fills the part its rules read."""

    label: str  # the operation or probe, as reports name it (`GET /api/tasks/{id}`)
    op: Operation | None = None  # auth, status: one run per operation ...
    plan: RequestPlan | None = None  # ... with the request planned for it
    flow: Flow | None = None  # lifecycle: the one task/worker flow its rules walk in order
    state: Any = None  # another suite's own walk (memory: the memory it saved), read by that suite's rules

    def operation(self) -> tuple[Operation, RequestPlan]:
        if self.op is None or self.plan is None:
            raise TypeError(f"{self.label}: this rule checks an operation, but its suite gave none")
        return self.op, self.plan

    def lifecycle(self) -> Flow:
        if self.flow is None:
            raise TypeError(f"{self.label}: this rule walks the lifecycle flow, but its suite gave none")
        return self.flow


Check = Callable[["SuiteContext", Subject], None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One contract rule: a stable id, its suite, the failure it raises and the sentence that says how to fix it."""

    id: str
    suite: str
    title: str
    failure: type[ContractFailure]
    check: Check | None = None
    hint: str | None = None
    origin: str = ""

    @property
    def fix(self) -> str:
        return self.hint or self.failure.default_hint


SUITES: Registry[Suite] = Registry("suite")
RULES: Registry[Rule] = Registry("rule")


def suite(
    name: str,
    *,
    title: str,
    order: int,
    needs: tuple[str, ...] = ("key",),
    mutates: bool = False,
    engine: Mapping[str, EngineRule] | None = None,
) -> Callable[[Callable[[SuiteContext], None]], Callable[[SuiteContext], None]]:
    """Register the decorated function as the body of suite `name`."""

    def register(fn: Callable[[SuiteContext], None]) -> Callable[[SuiteContext], None]:
        SUITES.register(
            name,
            Suite(
                name=name,
                title=title,
                order=order,
                run=fn,
                needs=needs,
                mutates=mutates,
                engine=dict(engine or {}),
                description=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "",
                origin=f"{fn.__module__}.{fn.__qualname__}",
            ),
        )
        return fn

    return register


def rule(
    rule_id: str, *, suite: str, title: str, failure: type[ContractFailure], hint: str | None = None
) -> Callable[[C], C]:
    """Register the decorated `(ctx, subject)` function as the check of rule `rule_id`; it raises `failure` when
    the rule breaks."""

    def register(fn: C) -> C:
        RULES.register(
            rule_id,
            Rule(rule_id, suite, title, failure, fn, hint, origin=f"{fn.__module__}.{fn.__qualname__}"),
        )
        fn.rule_id = rule_id  # type: ignore[attr-defined]
        return fn

    return register


def declare(rule_id: str, *, suite: str, title: str, failure: type[ContractFailure], hint: str | None = None) -> Rule:
    """Register a rule whose check lives elsewhere (a schemathesis check, a data-driven family)."""
    return RULES.register(rule_id, Rule(rule_id, suite, title, failure, None, hint, origin=f"declared:{rule_id}"))


def suite_names() -> list[str]:
    """Suite names in run order (loads the built-in suites)."""
    import contracts.checks  # noqa: F401  (registers the suites)

    return [s.name for s in sorted(SUITES, key=lambda s: s.order)]
