"""Applying a render to the cluster: ordering, planning and inventory are pure; the applier
(server-side apply and prune) is the only part that talks to the API server.

    ordering     stages (prerequisites, secrets, workloads) and the kind order
    plan         policy checks, namespace placement, ownership label, prune decisions
    inventory    Flux-style inventory entries, diff and merge

Nothing is imported here, so importing one module never pulls in the cluster client.
"""
