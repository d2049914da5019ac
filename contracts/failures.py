"""Typed contract failures: what broke, where, what was expected, the request to replay, and what to do.

Every failure is a `schemathesis` `Failure` (so an `AssertionError`): a check raises it, pytest and the
schemathesis engine report it natively, and our runner records it with its rule id.

    Failure (schemathesis)
    └── ContractFailure                 rule, operation, expected, actual, request (masked curl), hint
        ├── AuthNotEnforced             a request without a usable credential was not answered 401
        ├── CredentialRefused           a valid credential was answered 401
        ├── ErrorBodyMalformed          a 4xx body without a string `error` (429 without numeric limit/current)
        ├── UndocumentedStatus          a status the operation does not document
        ├── InvalidInputAccepted        invalid JSON or wrong types answered with 2xx
        ├── ServerError                 5xx, or the server stopped answering
        ├── SchemaViolation             a body, content type or header that does not match the spec
        ├── OwnershipViolation          another team's credential got something other than the x-ownership answer
        ├── ResourceChangedByOther      ... and the owner's resource changed anyway
        ├── LifecycleRuleBroken         task/worker status rules (claim, running, terminal 409, maxTasks)
        ├── DoubleClaim                 one task handed to two claimers
        └── DevelopmentModeDetected     answers like buildd's NODE_ENV=development mocks
"""

from __future__ import annotations

from typing import Any, ClassVar

from schemathesis.core.failures import Failure, Severity

__all__ = (
    "FAILURE_TYPES",
    "AuthNotEnforced",
    "ContractFailure",
    "CredentialRefused",
    "DevelopmentModeDetected",
    "DoubleClaim",
    "ErrorBodyMalformed",
    "InvalidInputAccepted",
    "LifecycleRuleBroken",
    "OwnershipViolation",
    "ResourceChangedByOther",
    "SchemaViolation",
    "ServerError",
    "Severity",
    "UndocumentedStatus",
    "ValidInputRefused",
)


class ContractFailure(Failure):
    """One broken contract rule, with everything a developer needs to reproduce and fix it."""

    code: ClassVar[str] = "BC900"
    kind_title: ClassVar[str] = "Contract rule broken"
    default_severity: ClassVar[Severity] = Severity.HIGH
    default_hint: ClassVar[str] = "Make the operation answer as openapi.yaml documents it."

    def __init__(
        self,
        *,
        rule: str,
        operation: str | None,
        expected: str,
        actual: str,
        request: str | None = None,
        hint: str | None = None,
        title: str | None = None,
        severity: Severity | None = None,
        case_id: str | None = None,
    ) -> None:
        self.rule = rule
        self.expected = expected
        self.actual = actual
        self.request = request
        self.hint = hint or self.default_hint
        message = f"Expected: {expected}\nActual:   {actual}"
        super().__init__(
            operation=operation,
            title=title or self.kind_title,
            message=message,
            case_id=case_id,
            severity=severity or self.default_severity,
        )

    @property
    def _unique_key(self) -> str:
        return f"{self.rule}|{self.actual}"

    def __str__(self) -> str:
        lines = [f"[{self.rule}] {self.title}", f"Operation: {self.operation}", self.message]
        if self.request:
            lines.append(f"Request:  {self.request}")
        lines.append(f"Fix:      {self.hint}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The failure as documented in docs/contracts.md (JSON report, `failures[]`)."""
        return {
            "type": type(self).__name__,
            "rule": self.rule,
            "operation": self.operation,
            "title": self.title,
            "severity": self.severity.value,
            "expected": self.expected,
            "actual": self.actual,
            "request": self.request,
            "hint": self.hint,
        }


class AuthNotEnforced(ContractFailure):
    code = "BC401"
    kind_title = "Request without a usable credential was not refused"
    default_severity = Severity.CRITICAL
    default_hint = (
        'Authenticate before anything else in this route and answer 401 {"error": "Unauthorized"} '
        "when neither a valid `Bearer bld_...` key nor an accepted session is present."
    )


class CredentialRefused(ContractFailure):
    code = "BC402"
    kind_title = "A valid credential was refused"
    default_hint = "Accept the credential schemes the operation's `security` lists (key, session or both)."


class ErrorBodyMalformed(ContractFailure):
    code = "BC101"
    kind_title = "Error body without the documented shape"
    default_severity = Severity.MEDIUM
    default_hint = (
        'Route every error through one handler that answers JSON {"error": "<message>"} '
        "(429 adds numeric `limit` and `current`)."
    )


class UndocumentedStatus(ContractFailure):
    code = "BC102"
    kind_title = "Undocumented status code"
    default_severity = Severity.MEDIUM
    default_hint = "Answer one of the statuses openapi.yaml documents for this operation, or document the new one."


class InvalidInputAccepted(ContractFailure):
    code = "BC201"
    kind_title = "Invalid input accepted"
    default_hint = 'Validate the request body against the operation\'s schema and answer 400 {"error": ...}.'


class ServerError(ContractFailure):
    code = "BC500"
    kind_title = "Server error"
    default_severity = Severity.CRITICAL
    default_hint = 'Catch the exception and answer a documented 4xx with {"error": ...}; never 5xx for bad input.'


class SchemaViolation(ContractFailure):
    code = "BC103"
    kind_title = "Response does not match the spec"
    default_hint = "Serialize the response exactly as the operation's response schema in openapi.yaml describes it."


class OwnershipViolation(ContractFailure):
    code = "BC403"
    kind_title = "Another account reached a resource it does not own"
    default_severity = Severity.CRITICAL
    default_hint = "Check the operation's x-ownership rule before acting and answer its status and error."


class ResourceChangedByOther(ContractFailure):
    code = "BC404"
    kind_title = "A refused request still changed the owner's resource"
    default_severity = Severity.CRITICAL
    default_hint = "Run the ownership check before any write, not after it; a refused request must change nothing."


class LifecycleRuleBroken(ContractFailure):
    code = "BC301"
    kind_title = "Task/worker lifecycle rule broken"
    default_hint = "Apply the status transition tables of the spec (TaskStatus, WorkerStatus, PATCH 409 rules)."


class DoubleClaim(ContractFailure):
    code = "BC302"
    kind_title = "One task handed to two claimers"
    default_severity = Severity.CRITICAL
    default_hint = "Claim with a conditional update (WHERE status = 'pending') and skip the task when no row changed."


class DevelopmentModeDetected(ContractFailure):
    code = "BC601"
    kind_title = "Deployment answers like buildd's development-mode mocks"
    default_severity = Severity.CRITICAL
    default_hint = (
        "This looks like NODE_ENV=development: its mocks answer before any auth check. "
        "Deploy with NODE_ENV=production (or remove the development branches)."
    )


class ValidInputRefused(ContractFailure):
    code = "BC202"
    kind_title = "Valid input refused"
    default_hint = (
        "Accept every request the operation's schema allows. If this 400 is a business rule (a valid-by-schema"
        " request that breaks a rule), document it on the operation with `x-business-rules` in openapi.yaml."
    )


FAILURE_TYPES: tuple[type[ContractFailure], ...] = (
    AuthNotEnforced,
    CredentialRefused,
    ErrorBodyMalformed,
    UndocumentedStatus,
    InvalidInputAccepted,
    ValidInputRefused,
    ServerError,
    SchemaViolation,
    OwnershipViolation,
    ResourceChangedByOther,
    LifecycleRuleBroken,
    DoubleClaim,
    DevelopmentModeDetected,
)
