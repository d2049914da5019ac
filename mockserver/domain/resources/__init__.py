"""The resource layer: a plain resource is its spec entries (`x-resource` on each operation) plus one `Resource`
declaration; `ResourceEngine` serves list / get / create / update / delete for it and the HTTP layer routes every
`x-resource` operation to it without a hand-written handler. See docs/architecture.md, "Adding a plain resource".

    from mockserver.domain.resources import Resource, declare
    SECRET = declare(Resource("secret", scope="workspace", events={"create": "secret:created"}))
"""

from contracts.resources import ResourceOperation, resource_operations
from mockserver.domain.resources.declaration import ACTIONS, Action, Cascade, Resource, Scope, Stamp
from mockserver.domain.resources.engine import ResourceEngine
from mockserver.domain.resources.registry import declare, declared, forget, resource

__all__ = (
    "ACTIONS",
    "Action",
    "Cascade",
    "Resource",
    "ResourceEngine",
    "ResourceOperation",
    "Scope",
    "Stamp",
    "declare",
    "declared",
    "forget",
    "resource",
    "resource_operations",
)
