"""`buildd-api`: serve the mock, check a deployment, export fixtures, lint the spec.

Each command parses its options, calls one public function and renders the result. Errors from our own code
become one line on stderr and a non-zero exit (2 for usage and connection problems); never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A problem the user can fix: printed as one line, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file or sys.stderr)


def friendly_errors(fn: F) -> F:
    """Turn the expected failures of a command (bad file, refused connection...) into one line and exit 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except (OSError, ValueError, LookupError) as exc:  # our modules raise these with a message for people
            raise UserError(str(exc) or type(exc).__name__) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="buildd-api-kit", prog_name="buildd-api")
def main() -> None:
    """Mock server and contract tests for the buildd coordination API (source of truth: openapi.yaml)."""


# ----------------------------------------------------------------------------------------------- spec
@main.group()
def spec() -> None:
    """Inspect and lint openapi.yaml."""


# ---------------------------------------------------------------------------------------------- serve


# ------------------------------------------------------------------------------------------- fixtures
@main.group()
def fixtures() -> None:
    """The seeded fixture world: keys, export, generate."""


# ---------------------------------------------------------------------------------------------- check


# --------------------------------------------------------------------------------------------- events
@main.group()
def events() -> None:
    """Realtime events of a running mock."""


if __name__ == "__main__":
    main()
