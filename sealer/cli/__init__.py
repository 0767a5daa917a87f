"""The `seal` command line (console script `seal = sealer.cli:main`).

A thin click shell over the library: parse -> call `sealer.manifests` / `sealer.keystore` ->
print. Errors are mapped to exit codes once, in `app.SealGroup`. Modules:

- `app`         - the `main` group, error mapping, command registration.
- `context`     - `CliContext` (ctx.obj): the `fetch_public_keys` hook and the clock.
- `streams`     - input/output hygiene: stdin or files with caps, atomic writes, passphrases.
- `sealing`     - `seal secret`, `seal raw`, `seal unseal`.
- `keycommands` - `seal keys generate|backup|restore`.
- `checking`    - `seal check`, `seal reencrypt` (locally with --key, else by the controller).
- `clustercommands` - `seal cert`, `seal verify`.
- `cluster`     - the cluster options and how a cluster and its controller are reached.
- `options`     - what `seal` and `sealops` share: the duration type, `-o` as a format, and
                  the exit-code table of both `--help` epilogs.

Importing this package loads click and the standard library only; the library (cryptography,
YAML) is imported by each command when it runs; `sealer.kube` (and with it kubernetes) only
when a command actually reaches a cluster; kopf and hvac never are.
"""

from __future__ import annotations

from sealer.cli.app import main

__all__ = ["main"]
