"""The operation areas composed into `Buildd` (`api.area(Cls)`), one module each, plus the resources and tables
they declare. Every module here is imported once, before the first store is built: adding an area is adding a
file, with no list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ()


def _load() -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        importlib.import_module(f"{__name__}.{module}")


_load()
