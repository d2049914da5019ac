"""The one handler of every `x-resource` operation: the generic layer serves it, so no route function is written.

An operation with `x-resource` that also has a hand-written `@handles` function keeps that function (real
behaviour wins); every other one is routed here.
"""

from __future__ import annotations

from contracts.spec import Spec
from mockserver.domain.resources import resource_operations
from mockserver.http.routes import Call, Handler, Reply

__all__ = ("resource_handlers", "serve_resource")


def serve_resource(call: Call) -> Reply:
    return call.api.serve_resource(call.operation_id, call.principal, call.path, call.query, call.body)


def resource_handlers(spec: Spec, written: set[str] | frozenset[str] = frozenset()) -> dict[str, Handler]:
    """operationId -> the generic handler, for the spec's `x-resource` operations not in `written`."""
    return {op_id: serve_resource for op_id in resource_operations(spec) if op_id not in written}
