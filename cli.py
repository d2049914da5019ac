"""`buildd-api`: serve the mock, check a deployment, export fixtures, lint the spec.

Each command parses its options, calls one public function and renders the result. Errors from our own code
become one line on stderr and a non-zero exit (2 for usage and connection problems); never a traceback.
"""

from __future__ import annotations

import io
import os
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
            result = fn(*args, **kwargs)
            sys.stdout.flush()  # a reader that went away (`| head -3`) shows up here, not at interpreter exit
            return result
        except BrokenPipeError:
            _silence_stdout()
            return None  # the reader had enough: exit 0, so `set -o pipefail` scripts carry on
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except (OSError, ValueError, LookupError) as exc:  # our modules raise these with a message for people
            raise UserError(str(exc) or type(exc).__name__) from exc

    return wrapper  # type: ignore[return-value]


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's final flush does not raise again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (CliRunner): nothing to flush there
        pass


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="buildd-api-kit", prog_name="buildd-api")
def main() -> None:
    """Mock server and contract tests for the buildd coordination API (source of truth: openapi.yaml)."""


# ----------------------------------------------------------------------------------------------- spec
@main.group()
def spec() -> None:
    """Inspect and lint openapi.yaml."""


@spec.command("lint")
@click.argument("path", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--rule", "rules", multiple=True, metavar="NAME", help="Run only this rule (repeatable).")
@click.pass_context
@friendly_errors
def spec_lint(ctx: click.Context, path: str | None, fmt: str, rules: tuple[str, ...]) -> None:
    """Validate PATH (default openapi.yaml) with openapi-spec-validator, then check our conventions.

    Rules: openapi-valid, secured-401, ownership-status, error-schema, examples-valid, events-resolve,
    operation-id, links-resolve. Exit 0 when clean, 1 with findings, 2 if the file cannot be read or parsed.
    """
    import json

    from contracts.lint import lint

    report = lint(path, rules=rules or None)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        width = max((len(f.rule) for f in report.findings), default=0)
        for f in report.findings:
            click.echo(f"{f.rule:<{width}}  {f.location}  {f.message}")
        what = f"{report.operations} operations, {len(report.rules)} rules"
        n = len(report.findings)
        click.echo(
            f"{report.path}: {n} finding{'s' if n != 1 else ''} ({what})" if n else f"{report.path}: clean ({what})"
        )
    if not report.ok:
        ctx.exit(1)


@spec.command("sort")
@click.argument("path", required=False)
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if the paths are out of order.")
@click.pass_context
@friendly_errors
def spec_sort(ctx: click.Context, path: str | None, check: bool) -> None:
    """Put the paths of PATH (default openapi.yaml) in order: grouped by tag as the top-level `tags` list orders
    them, the /__mock control API last (lint rule paths-order). Blocks move as text: comments, flow style and
    quoting stay as written; the result must parse to the same data or nothing is written."""
    from pathlib import Path

    from contracts.spec import spec_path_from_env
    from contracts.spec_order import sort_paths

    target = Path(path) if path else spec_path_from_env()
    text = target.read_text(encoding="utf-8")
    ordered = sort_paths(text)
    if ordered == text:
        click.echo(f"{target}: paths already in order")
        return
    if check:
        click.echo(f"{target}: paths out of order (run `buildd-api spec sort`)")
        ctx.exit(1)
    target.write_text(ordered, encoding="utf-8")
    click.echo(f"{target}: paths sorted")


# ---------------------------------------------------------------------------------------------- serve
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=4010, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option(
    "--scenario",
    default="default",
    show_default=True,
    help="Fixture world to load (fixtures/scenarios.py; an unknown one lists the known ones).",
)
@click.option(
    "--state-file", type=click.Path(dir_okay=False), help="Keep the state in this SQLite file (resumed on restart)."
)
@click.option("--strict", is_flag=True, help="Check every response and event against the spec; a violation is a 500.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the fixture world, the ids and the fault rng.")
@click.option("--channel-prefix", default="", help="Prefix of every realtime channel (PUSHER_CHANNEL_PREFIX).")
@friendly_errors
def serve(
    host: str, port: int, scenario: str, state_file: str | None, strict: bool, seed: int | None, channel_prefix: str
) -> None:
    """Run the stateful mock of the buildd API (and its Pusher realtime) until Ctrl+C."""
    from mockserver.server import run
    from mockserver.settings import MockSettings

    settings = MockSettings(
        host=host,
        port=port,
        scenario=scenario,
        state_file=state_file,
        strict=strict,
        seed=seed,
        channel_prefix=channel_prefix,
    )

    def announce(s: MockSettings) -> None:
        ws = s.base_url.replace("http://", "ws://", 1)
        click.echo(f"buildd mock on {s.base_url}  (scenario {s.scenario}{', strict' if s.strict else ''})")
        click.echo(f"  spec      {s.base_url}/openapi.yaml   reference {s.base_url}/docs")
        if s.control_api:
            click.echo(f"  console   {s.base_url}/__mock/console")
        click.echo(f"  pusher    {ws}/app/{s.pusher_key}  (app id {s.pusher_app_id}, cluster {s.pusher_cluster})")
        click.echo(f"  keys      buildd-api fixtures keys   or   curl {s.base_url}/__mock/keys")
        click.echo("Ctrl+C stops it.")

    run(settings, announce=announce)


# ------------------------------------------------------------------------------------------- fixtures
@main.group()
def fixtures() -> None:
    """The seeded fixture world: keys, export, generate, validate."""


class _ScenarioChoice(click.Choice):  # type: ignore[type-arg]
    """The registered scenarios; an unknown one is a one-line error (exit 2) instead of a usage screen."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.choices:
            return value
        raise UserError(f"unknown scenario {value!r}; known scenarios: {', '.join(map(str, self.choices))}")


def _world_options(fn: F) -> F:
    from fixtures.rng import DEFAULT_SEED
    from fixtures.scenarios import scenario_names

    fn = click.option(
        "--size",
        type=click.IntRange(min=0),
        default=None,
        help="Number of tasks, for sized scenarios (large: default 10000).",
    )(fn)
    fn = click.option(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        show_default=True,
        help="Seed of ids, text and keys (the committed default world uses 7).",
    )(fn)
    return click.option(
        "--scenario",
        type=_ScenarioChoice(scenario_names()),
        default="default",
        show_default=True,
        help="Which world (fixtures/scenarios.py).",
    )(fn)


@fixtures.command("keys")
@_world_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@friendly_errors
def fixtures_keys(scenario: str, seed: int, size: int | None, as_json: bool) -> None:
    """The world's API keys (public test credentials) and how to get a session cookie from the mock."""
    import json

    from fixtures import FixtureKeys, fixture_users, load_world

    world = load_world(scenario, seed=seed, size=size)
    keys, users = FixtureKeys.of(world), fixture_users(world)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "scenario": scenario,
                    "accounts": [
                        {
                            "name": k.name,
                            "key": k.key,
                            "level": k.level,
                            "type": k.type,
                            "authType": k.authType,
                            "teamId": k.teamId,
                            "accountId": k.accountId,
                        }
                        for k in keys.values()
                    ],
                    "users": [
                        {"email": u.email, "name": u.name, "teamIds": list(u.teamIds), "sessionToken": u.sessionToken}
                        for u in users
                    ],
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"Keys of scenario {scenario!r} (seed {seed}): public test credentials for a mock seeded with this "
        "world only.\n"
    )
    rows = [("NAME", "TEAM", "TYPE", "LEVEL", "AUTHTYPE", "KEY")]
    rows += [(k.name, k.team, k.type, k.level, k.authType, k.key) for k in keys.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    click.echo("")
    for k in keys.values():
        if k.note:
            click.echo(f"{k.name}: {k.note} ({k.live_workers}/{k.max_workers} workers live)")
    emails = ", ".join(
        f"{u.email} ({', '.join(f'{t} {r}' for t, r in zip(u.teams, u.roles, strict=True))})" for u in users
    )
    click.echo(f"\nSession cookie, once the mock runs (`buildd-api serve`), for one of: {emails}")
    first = users[0].email if users else "<user email>"
    click.echo(
        "  curl -s -X POST http://127.0.0.1:4010/__mock/session -H 'content-type: application/json' "
        f'-d \'{{"email": "{first}"}}\''
    )


@fixtures.command("export")
@_world_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "ts"]),
    default="json",
    show_default=True,
    help="json: one file per table + world.json; ts: fixtures.ts typed by openapi-typescript.",
)
@click.option("--out", "out", required=True, metavar="DIR", help="Directory to write into (created if needed).")
@click.option("--typecheck", is_flag=True, help="With --format ts, also run tsc --noEmit --strict on the result.")
@friendly_errors
def fixtures_export(scenario: str, seed: int, size: int | None, fmt: str, out: str, typecheck: bool) -> None:
    """Export a world for other tools and frontend teams."""
    from fixtures import export_world, load_world

    written = export_world(load_world(scenario, seed=seed, size=size), out, fmt, typecheck=typecheck)
    click.echo(f"wrote {len(written)} files to {out} ({scenario}, {fmt}{', type-checked' if typecheck else ''})")


@fixtures.command("generate")
@_world_options
@click.option("--out", "out", required=True, metavar="DIR", help="Directory for <scenario>.json (created if needed).")
@friendly_errors
def fixtures_generate(scenario: str, seed: int, size: int | None, out: str) -> None:
    """Build a world and write it as canonical JSON to DIR/<scenario>.json."""
    from fixtures import build_world, save_world

    world = build_world(scenario, seed=seed, size=size)
    path = save_world(world, out)
    counts = ", ".join(f"{len(world[t])} {t}" for t in ("accounts", "workspaces", "tasks", "workers"))
    click.echo(f"wrote {path} ({counts})")


@fixtures.command("validate")
@_world_options
@click.option("--file", "path", metavar="PATH", default=None, help="Validate this world file instead of a scenario.")
@friendly_errors
def fixtures_validate(scenario: str, seed: int, size: int | None, path: str | None) -> None:
    """Check a world against the spec's schemas and its own references; exit 1 listing what is wrong."""
    import json
    from pathlib import Path

    from fixtures import load_world, validate_world

    if path is None:
        world, what = load_world(scenario, seed=seed, size=size), f"scenario {scenario!r} (seed {seed})"
    else:
        try:
            world, what = json.loads(Path(path).read_text(encoding="utf-8")), path
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read world {path}: {exc}") from exc
    problems = validate_world(world)
    for line in problems:
        click.echo(line, err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"{what}: valid ({sum(len(v) for k, v in world.items() if k != 'meta')} records)")


# ---------------------------------------------------------------------------------------------- check
class _SuiteList(click.ParamType):
    """`auth,ownership` -> ("auth", "ownership"); the choices come from the suite registry (loaded lazily)."""

    name = "suites"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "SUITE[,SUITE...]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        from contracts import suite_names

        known = suite_names()
        names = tuple(dict.fromkeys(n.strip() for n in str(value).split(",") if n.strip()))
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise UserError(f"unknown suite {', '.join(unknown) or repr(value)}; choose from {','.join(known)}")
        return names


class _SuiteOption(click.Option):
    """Lists the registered suites in --help without importing them for every other command."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from contracts import suite_names

        record = super().get_help_record(ctx)
        if record is None:
            return None
        return record[0], f"{record[1]} Choices: {','.join(suite_names())}."


class _BaseUrl(click.ParamType):
    """An http(s) URL with a host; checked before anything else, so `check not-a-url` names the URL first."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from urllib.parse import urlsplit

        text = str(value).strip()
        try:
            parts = urlsplit(text)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            _ = parts.port  # a non-numeric port raises here
        except ValueError:
            ok = False
        if not ok:
            raise UserError(f"{text!r} is not a URL; give the base URL of the server, e.g. http://127.0.0.1:4010")
        return text


@main.command()
@click.argument("base_url", type=_BaseUrl())
@click.option("--key", envvar="BUILDD_KEY", help="The API key whose resources are checked (env BUILDD_KEY).")
@click.option(
    "--other-key",
    envvar="BUILDD_OTHER_KEY",
    help="An API key of another team, for the ownership suite (env BUILDD_OTHER_KEY).",
)
@click.option(
    "--session-cookie",
    envvar="BUILDD_SESSION_COOKIE",
    help="A dashboard session (`authjs.session-token` value) of --key's team (env BUILDD_SESSION_COOKIE).",
)
@click.option(
    "--other-session-cookie",
    envvar="BUILDD_OTHER_SESSION_COOKIE",
    help="A session of another team: ownership of session-only operations (env BUILDD_OTHER_SESSION_COOKIE).",
)
@click.option(
    "--cron-secret",
    envvar="BUILDD_CRON_SECRET",
    help="The deployment's CRON_SECRET: the cron suite runs a due schedule (env BUILDD_CRON_SECRET; "
    "the mock's is buildd-mock-cron-secret).",
)
@click.option(
    "--workspace",
    envvar="BUILDD_WORKSPACE",
    help="Workspace (id, name or owner/repo) for the resources the run creates (env BUILDD_WORKSPACE).",
)
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False),
    help="The contract to check against (default: this repository's openapi.yaml).",
)
@click.option(
    "--suite",
    "suites",
    type=_SuiteList(),
    cls=_SuiteOption,
    default=None,
    help="Comma-separated suites to run (default: all).",
)
@click.option(
    "--operation",
    "operations",
    multiple=True,
    metavar="PATTERN",
    help="Only these operations (operationId or 'METHOD /path', globs allowed; repeatable).",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Send nothing that mutates: GET-only generation, no resources created (safe for production).",
)
@click.option(
    "--max-examples", type=click.IntRange(min=1), default=None, help="Generated examples per operation (default 6)."
)
@click.option(
    "--coverage/--no-coverage",
    default=None,
    help="schemathesis' coverage phase (boundary and negative cases; default on).",
)
@click.option("--seed", type=click.IntRange(min=0), help="Reproduce a run exactly (printed at the end of every run).")
@click.option("--rate-limit", metavar="N/UNIT", help="At most N requests per s, m or h, e.g. 10/s.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each answer.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Concurrent workers for generated requests.",
)
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="Write a JUnit XML report here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the JSON report here.")
@click.option("--color/--no-color", default=None, help="Force or disable colours (default: when a terminal).")
@click.option("--fail-on-skip", is_flag=True, help="Exit 1 when any check could not be verified (CI gate).")
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    default=None,
    metavar="PERCENT",
    help="Exit 1 when fewer than PERCENT of the selected checks were verified (CI gate).",
)
@click.pass_context
@friendly_errors
def check(
    ctx: click.Context,
    base_url: str,
    key: str | None,
    other_key: str | None,
    session_cookie: str | None,
    other_session_cookie: str | None,
    cron_secret: str | None,
    workspace: str | None,
    spec_path: str | None,
    suites: tuple[str, ...] | None,
    operations: tuple[str, ...],
    read_only: bool,
    max_examples: int | None,
    coverage: bool | None,
    seed: int | None,
    rate_limit: str | None,
    timeout: float,
    workers: int,
    junit_path: str | None,
    json_path: str | None,
    color: bool | None,
    fail_on_skip: bool,
    min_coverage: float | None,
) -> None:
    """Check the deployment at BASE_URL against the contract: auth, statuses, schemas, ownership, lifecycle and
    development mode. Exit 0 when every check passes, 1 when rules are broken (or a --fail-on-skip /
    --min-coverage gate fails), 2 on a usage or connection error.
    """
    import contracts
    from contracts.report import ConsoleReporter, JsonReporter, JUnitReporter, Reporter

    defaults = contracts.RunOptions()
    options = contracts.RunOptions(
        suites=suites,
        operations=operations or None,
        read_only=read_only,
        seed=seed,
        rate_limit=rate_limit,
        timeout=timeout,
        workers=workers,
        max_examples=max_examples or defaults.max_examples,
        coverage_phase=defaults.coverage_phase if coverage is None else coverage,
        fail_on_skip=fail_on_skip,
        min_coverage=min_coverage,
    )
    credentials = contracts.Credentials(
        key=key,
        other_key=other_key,
        session_cookie=session_cookie,
        other_session_cookie=other_session_cookie,
        workspace=workspace,
        cron_secret=cron_secret,
    )
    reporters: list[Reporter] = [ConsoleReporter(color=color)]
    if junit_path:
        reporters.append(JUnitReporter(junit_path))
    if json_path:
        reporters.append(JsonReporter(json_path))
    result = contracts.run(base_url, credentials, options=options, spec=spec_path, reporters=reporters)
    ctx.exit(result.exit_code)


# --------------------------------------------------------------------------------------------- events
@main.group()
def events() -> None:
    """Realtime events of a running mock."""


@events.command("tail")
@click.option(
    "--url", type=_BaseUrl(), default="http://127.0.0.1:4010", show_default=True, help="Base URL of a running mock."
)
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable), e.g. workspace-<id>.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many events.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Stop after this many seconds.")
@friendly_errors
def events_tail(url: str, channels: tuple[str, ...], limit: int | None, timeout: float | None) -> None:
    """Print the mock's realtime events as they happen (one line each)."""
    from mockserver.realtime.tail import tail

    try:
        tail(url, list(channels), limit=limit, timeout=timeout)
    except ConnectionError as exc:
        raise UserError(str(exc)) from None


if __name__ == "__main__":
    main()
