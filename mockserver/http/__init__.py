"""The mock's HTTP layer: the Litestar app built from openapi.yaml (`app.create_app`), request validation,
auth, Prefer, strict mode, the `/__mock` control API, faults and the request log. `routes/` maps each
operationId to one domain call."""
