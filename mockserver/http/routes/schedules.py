"""Schedules of a workspace."""

from __future__ import annotations

from mockserver.domain.areas.schedules import Schedules
from mockserver.http.routes import Call, Reply, handles

__all__ = ()


@handles("listSchedules")
def list_schedules(call: Call) -> Reply:
    return call.api.area(Schedules).list_schedules(call.principal, call.path["id"])


@handles("createSchedule")
def create_schedule(call: Call) -> Reply:
    return 201, call.api.area(Schedules).create_schedule(call.principal, call.path["id"], call.body or {})


@handles("getSchedule")
def get_schedule(call: Call) -> Reply:
    return call.api.area(Schedules).get_schedule(call.principal, call.path["id"], call.path["scheduleId"])


@handles("updateSchedule")
def update_schedule(call: Call) -> Reply:
    return call.api.area(Schedules).update_schedule(
        call.principal, call.path["id"], call.path["scheduleId"], call.body or {}
    )


@handles("deleteSchedule")
def delete_schedule(call: Call) -> Reply:
    return call.api.area(Schedules).delete_schedule(call.principal, call.path["id"], call.path["scheduleId"])
