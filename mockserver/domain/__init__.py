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
    service    Buildd: the facade (store, clock, ids, outbox, settings, sweep, /__mock controls, area(Cls))
    area       Area: a group of operations composed into the facade; the areas live in areas/ (one module each)
    resources  the generic layer serving every x-resource operation from the spec plus one declaration

Import the modules themselves (`from mockserver.domain.service import Buildd`); this package re-exports
nothing, so importing one module never drags in the rest.
"""
