"""The buildd state machine, free of HTTP: records are plain dicts in openapi.yaml's wire shape.

    runtime    Clock (real time + offset, or frozen) and Ids (one seeded Random): all time and randomness
    store      Store: tables, indexes (_indexes), one lock, transactions with undo, SQLite write-through (_statefile)
    auth       Principal and authenticate(): API key (SHA-256 lookup) first, then the session cookie, else 401
    access     team scope (404 outside it) and worker ownership (403 for another account's worker)
    claims     the claim algorithm
    lifecycle  task and worker statuses, their transition tables, and the effects that apply them
    events     Event and the Outbox the HTTP layer drains into the realtime hub
    records    creation defaults and response/event views of the wire dicts
    errors     the DomainError tree (status + body)
    service    Buildd: one method per operationId, grouped in _accounts, _workspaces, _schedules, _tasks,
               _task_actions, _workers, _worker_control and _artifacts

Import the modules themselves (`from mockserver.domain.service import Buildd`); this package re-exports
nothing, so importing one module never drags in the rest.
"""
