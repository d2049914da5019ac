"""The built-in suites; importing this package registers them (and their rules) in `contracts.registry`.

One module per rule family: `auth`, `status` (+ `errors`, the error-body check shared with schemathesis),
`schemas`, `ownership`, `lifecycle`, `cron`, `devmode`.
"""

from __future__ import annotations

from contracts.checks import auth, cron, devmode, errors, lifecycle, ownership, schemas, status

__all__ = ("auth", "cron", "devmode", "errors", "lifecycle", "ownership", "schemas", "status")
