"""Applying a render to the cluster: ordering, planning, drift and inventory are pure; the
applier, the waits and prune are the only parts that talk to the API server.

    ordering     stages (prerequisites, secrets, workloads) and the kind order
    plan         policy checks, namespace placement, ownership label, prune decisions
    inventory    Flux-style inventory entries, diff and merge
    defaults     fields SSA needs up front on old servers (Service/container port protocol)
    drift        does a live object already hold what we would apply (so nothing is written)
    diff         `sealops diff` output with secret values masked
    applier      server-side apply of one wave (field manager `sealops`)
    wait         CRDs Established, Namespaces Active, secret-bearing objects Ready
    prune        deleting stale inventory entries, only after a fully successful apply

Nothing is imported here, so importing one module never pulls in the cluster client.
"""
