"""Vault sync: Vault KV secrets -> Kubernetes Secret data.

The only package of sealops that imports `hvac` (an import-linter contract checks it).

    store     pure: a VaultStore/ClusterVaultStore `spec` -> a frozen `StoreConfig`; admission
    mapping   pure: paths under a tenant prefix, Vault data -> `dict[str, bytes]`, the data hash
    client    `VaultSession`: one authenticated hvac client per store; every failure -> VaultError
    transport hvac's adapter hardened (bounded bodies, no redirects), CA pinning, status mapping
    sync      `fetch` (all or nothing), refresh jitter and retry backoff
    bulkhead  bounded concurrency per store, so a hung Vault never blocks other stores

Import the modules, not names: `from controller.vault import sync` then `sync.fetch(...)`.
Nothing here talks to Kubernetes: callers pass in credentials (a token, a JWT from the
TokenRequest API, an AppRole secret id) and CA bundles they read themselves.
"""
