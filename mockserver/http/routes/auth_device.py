"""Device login: code (public), token (public), approve (session)."""

from __future__ import annotations

from mockserver.domain.areas.accounts import Devices
from mockserver.http.routes import Call, Reply, handles

__all__ = ()


@handles("createDeviceCode")
def create_device_code(call: Call) -> Reply:
    return call.api.area(Devices).create_device_code(call.body)


@handles("exchangeDeviceToken")
def exchange_device_token(call: Call) -> Reply:
    return call.api.area(Devices).exchange_device_token(call.body or {})


@handles("approveDevice")
def approve_device(call: Call) -> Reply:
    return call.api.area(Devices).approve_device(call.principal, call.body or {})
