"""The built-in suites; importing this package registers them (and their rules) in `contracts.registry`.

One module per rule family: `auth`, `status` (+ `errors`, the error-body check shared with schemathesis),
`schemas`, `ownership`, `lifecycle`, `devmode`.
"""

from __future__ import annotations

# `missions` adds the missions area's rules to the lifecycle suite
from contracts.checks import auth, devmode, errors, lifecycle, missions, ownership, schemas, status

__all__ = ("auth", "devmode", "errors", "lifecycle", "missions", "ownership", "schemas", "status")
