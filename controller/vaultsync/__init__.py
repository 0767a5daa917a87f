"""The cluster side of Vault sync: VaultSecret -> Secret, driven by kopf events and a scheduler.

`controller.vault` is the engine (the only hvac importer; pure mapping, sessions, fetch); this
package is its shell against Kubernetes. Entry point: `controller.handlers.vaultsecrets`.

    objects      pure: resource names, labels, a VaultSecret's storeRef/interval/target
    target       pure: the target Secret body, ownership checks, write/delete decisions
    credentials  Secret keys and TokenRequests a store's auth method and CA need
    hashkey      the data-hash key Secret in the controller namespace (created once)
    stores       the store cache: latest store bodies, one VaultSession per store spec
    scheduler    due-time queue, worker pool, one lane per store, first-sync pacer
    context      what every sync shares (clients, caches, tuning)
    reconcile    one sync of one VaultSecret -> an Outcome (never holds Secret data)
    report       status and Events, written only when they change
    runtime      glue: observe_* (from kopf) -> scheduler -> reconcile/report -> next run

Import the modules, not names: `from controller.vaultsync import runtime`.
"""
