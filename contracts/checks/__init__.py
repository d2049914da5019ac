"""The built-in suites; importing this package registers them (and their rules) in `contracts.registry`.

One module per rule family: `auth`, `status` (+ `errors`, the error-body check shared with schemathesis),
`schemas`, `ownership`, `lifecycle`, `devmode`; `ws_memory` (suite `memory`).
"""

from __future__ import annotations

import importlib
import pkgutil

from contracts.checks import auth, devmode, errors, lifecycle, ownership, schemas, status

__all__ = ("auth", "devmode", "errors", "lifecycle", "ownership", "schemas", "status")

# the API areas' rules (one module each, e.g. `teams`): adding a rule family is adding a file, no list to edit
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
    importlib.import_module(f"{__name__}.{_module}")
