"""The built-in suites; importing this package registers them (and their rules) in `contracts.registry`.

One module per rule family: `auth`, `status` (+ `errors`, the error-body check shared with schemathesis),
`schemas`, `ownership`, `lifecycle`, `devmode`.
"""

from __future__ import annotations

import importlib
import pkgutil

from contracts.checks import auth, devmode, errors, lifecycle, ownership, schemas, status

__all__ = ("auth", "devmode", "errors", "lifecycle", "ownership", "schemas", "status")

# lifecycle rules of an API area live in `lifecycle_<area>.py`: adding one is adding a file, no list to edit
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("lifecycle_")):
    importlib.import_module(f"{__name__}.{_module}")
