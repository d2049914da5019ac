"""The stateful buildd mock server: `create_app(MockSettings(...))` gives the Litestar app.

Imports stay light: Litestar and the domain load only when `create_app` or `MockSettings` is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.http.app import create_app
    from mockserver.settings import MockSettings

__all__ = ("MockSettings", "create_app")


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from mockserver.http.app import create_app

        return create_app
    if name == "MockSettings":
        from mockserver.settings import MockSettings

        return MockSettings
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
