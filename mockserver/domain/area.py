"""`Area`: one group of operations, composed into `Buildd` by class instead of inherited by it.

    class Missions(Area):
        def create_mission(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]: ...

    api.area(Missions).create_mission(principal, body)

An area shares the facade's store, clock, ids, outbox and settings (it is an `Ops`), and reaches other areas and
the core operations through `self.api`. Area modules live in `mockserver/domain/areas/` and are imported before
any store is built, so the tables and resources they declare exist in every store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.domain._base import Ops

if TYPE_CHECKING:
    from mockserver.domain.service import Buildd

__all__ = ("Area",)


class Area(Ops):
    """Base of a composed group of operations; built once per `Buildd` by `Buildd.area(cls)`."""

    def __init__(self, api: Buildd) -> None:
        super().__init__(api.store, api.clock, api.ids, api.outbox, api.settings)
        self.api = api
