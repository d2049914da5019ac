"""The built-in suites; importing this package registers them (and their rules) in `contracts.registry`.

One module per rule family: `auth`, `status` (+ `errors`, the error-body check shared with schemathesis),
`schemas`, `ownership`, `lifecycle`, `devmode`; `ws_memory` (suite `memory`).
"""

from __future__ import annotations

from contracts.checks import auth, devmode, errors, lifecycle, ownership, schemas, status, ws_memory

__all__ = ("auth", "devmode", "errors", "lifecycle", "ownership", "schemas", "status", "ws_memory")
