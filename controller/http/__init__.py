"""The controller's HTTP endpoints: public keys, verify, rotate, health and metrics.

    endpoints  the request logic (sync, thread-safe; `seal`'s tests call it in-process)
    limits     name checks, the work a request costs, the work-counting rate limiter
    server     aiohttp on its own thread: time, size, connection and worker bounds
    health     loop liveness for /healthz, and the watchdog that exits on a dead loop
    hooks      Receiver webhooks under /hook/ (authenticated before a capped body)
"""
