"""Manifests: text <-> typed objects, and sealing or unsealing one object.

Modules (import them as namespaces, e.g. `from sealer.manifests import safeyaml`):

- `safeyaml` - the only YAML/JSON reader (no aliases, tags, duplicate keys; size/depth caps)
               and the deterministic writer; also used by the GitOps renderer.
- `secrets`  - `SecretManifest` / `SealedSecretManifest`, DNS-1123 names, scope annotations.
- `seal`     - `seal_secret`, `merge_into`, `unseal`, `reseal` (scope proven by the ciphertext).
- `check`    - `seal check`: plaintext Secrets and malformed sealed values, with file:line.
- `rewrite`  - replace documents in a file in place (`check --fix`, `reencrypt`).

No Kubernetes client and no click here; `seal` imports `sealer.crypto`, the others do not.
"""
