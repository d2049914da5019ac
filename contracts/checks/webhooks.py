"""Suite `webhooks`: every operation the spec marks `x-signature` refuses a delivery that is not signed by its sender.

A webhook (GitHub's, Linear's, Slack's, Discord's, the issue tracker's ingest hook) is public or takes any key:
the signature over the raw body is what says who sent it. `check` does not know the sender's secret, so it proves
the other half, from the spec alone: the operation's harmless `probe` delivery is sent once without the signature
header and once signed the declared way with a key that is not the server's; both must get the declared `refused`
status with `{"error": ...}`. A server that skips the check acts on anyone's forged event.

The declaration (one per operation, parsed by `contracts.signatures`; the spec's `info.description` shows it whole):

    x-signature: {scheme: hmac-sha256, header: X-Hub-Signature-256, prefix: 'sha256=', refused: 401,
                  probe: {headers: {X-GitHub-Event: ping}, body: {zen: ping}}}
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from contracts.context import Skip, SuiteContext
from contracts.failures import AuthNotEnforced, ServerError
from contracts.registry import Subject, rule, suite
from contracts.signatures import EXTENSION, FORM, forge, signature_of, signed_operations

__all__ = ("RULE", "SUITE", "webhook_signature")

SUITE = "webhooks"
RULE = "webhooks.signature"
_PLACEHOLDER = re.compile(r"\{(run|workspace\.id|workspace\.repo)\}")


class _Fill:
    """Resolves the probe's placeholders from the run (the key's workspaces are listed once, when asked)."""

    def __init__(self, ctx: SuiteContext) -> None:
        self.ctx = ctx
        self._workspaces: list[dict[str, Any]] | None = None

    def workspace(self, wanted: str) -> dict[str, Any]:
        """The run's workspace, else (for a field it lacks, e.g. `repo`) the first the key sees that has it."""
        if self._workspaces is None:
            from contracts.workbench import WorkbenchError

            try:
                own = self.ctx.workbench.workspace_id()
            except WorkbenchError as exc:
                raise Skip(f"no workspace to deliver to: {exc}") from None
            listing = self.ctx.send("GET", "/api/workspaces").json()
            seen = listing.get("workspaces") if isinstance(listing, dict) else None
            found = [w for w in seen or [] if isinstance(w, dict)]
            self._workspaces = [{"id": own}, *sorted(found, key=lambda w: str(w.get("id")) != own)]
        return next((w for w in self._workspaces if w.get(wanted)), {})

    def value(self, name: str) -> str:
        if name == "run":
            return re.sub(r"[^a-z0-9]+", "-", self.ctx.run_id.lower()).strip("-")
        wanted = name.removeprefix("workspace.")
        value = self.workspace(wanted).get(wanted)
        if not value:
            raise Skip(f"no workspace the key sees has a {wanted} for the probe")
        return str(value)

    def __call__(self, node: Any) -> Any:
        if isinstance(node, str):
            return _PLACEHOLDER.sub(lambda m: self.value(m.group(1)), node)
        if isinstance(node, Mapping):
            return {key: self(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self(value) for value in node]
        return node


@rule(
    RULE,
    suite=SUITE,
    title="A webhook delivery without a valid signature is refused with the declared status",
    failure=AuthNotEnforced,
    hint=(
        "Verify the operation's `x-signature` (its header, over the raw body, compared in constant time) before "
        'parsing or acting on the payload; answer its `refused` status with {"error": ...} when it is missing or wrong.'
    ),
)
def webhook_signature(ctx: SuiteContext, subject: Subject) -> None:
    op = subject.op
    if op is None:
        raise TypeError(f"{subject.label}: {RULE} checks an operation, but its suite gave none")
    sig = signature_of(op)
    if sig is None:
        raise Skip(f"{op.label} declares no {EXTENSION}")
    fill = _Fill(ctx)
    path = op.path
    for name, template in sig.probe_path.items():
        path = path.replace("{" + name + "}", quote(str(fill(template)), safe=""))
    body = fill(sig.probe_body)
    raw = urlencode(body).encode() if sig.content_type == FORM else json.dumps(body).encode()
    headers = {"content-type": sig.content_type, **fill(dict(sig.probe_headers))}
    stamp = str(int(time.time()))
    if sig.timestamp:
        headers[sig.timestamp] = stamp
    auth = ctx.default_auth(op)  # a public webhook gets none; one that also takes a key (ingest) gets --key
    forged = f"signed with another {'key' if sig.scheme == 'ed25519' else 'secret'}"
    for label, signature in (("without a signature", None), (forged, forge(sig, raw, stamp))):
        sent = headers if signature is None else {**headers, sig.header: signature}
        exchange = ctx.send(op.method, path, auth=auth, headers=sent, content=raw)
        if exchange.status == 0 or exchange.status >= 500:
            ctx.fail(ServerError, RULE, op.label, expected=f"{sig.refused} for a delivery {label}", exchange=exchange)
        answer = exchange.json()
        if exchange.status != sig.refused or not isinstance(answer, dict) or not isinstance(answer.get("error"), str):
            ctx.fail(
                AuthNotEnforced,
                RULE,
                op.label,
                expected=f'{sig.refused} {{"error": ...}} for a delivery {label} (`{sig.header}`, {sig.scheme})',
                exchange=exchange,
                actual=f"{exchange.describe(200)} for a delivery {label}",
            )


@suite(SUITE, title="Signed webhooks", order=55, needs=(), mutates=True)
def run_webhooks(ctx: SuiteContext) -> None:
    """Each `x-signature` operation refuses an unsigned and a wrongly signed delivery."""
    ops = [op for op in signed_operations(ctx.spec) if ctx.selected(op)]
    ctx.progress.total(len(ops))
    for op in ops:
        if ctx.options.read_only:
            ctx.skip(RULE, op.label, "sends webhook deliveries; skipped under --read-only")
        elif not op.is_public and not ctx.credentials.key:
            ctx.skip(RULE, op.label, "needs --key (the operation takes a key beside its signature)")
        else:
            with ctx.checking(RULE, op.label):
                try:
                    webhook_signature(ctx, Subject(op.label, op=op))
                except ValueError as exc:  # a malformed declaration: `spec lint` names it too
                    raise Skip(f"{EXTENSION} is malformed: {exc}") from None
        ctx.progress.advance()
