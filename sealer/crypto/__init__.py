"""sealops cryptography: pure bytes, no I/O, no YAML, no Kubernetes.

Modules (import them as namespaces, e.g. `from sealer.crypto import keyring`):

- `plaintext` - `SecretBytes`, plaintext that never prints itself.
- `scope`     - `Scope` and the kubeseal scope label that binds a value to where it may open.
- `keys`      - key generations, public keys, key ids, kubeseal-style certificates, PEM forms.
- `envelope`  - the v1 (kubeseal) and v2 (HPKE, hybrid post-quantum) wire formats.
- `keyring`   - newest key encrypts, any known key decrypts; base64 text; `seal_value`.

Every failure to open an envelope is one `sealer.errors.UnsealError(item)`.
"""

from __future__ import annotations

from sealer.crypto import envelope, keyring, keys, plaintext, scope

__all__ = ["envelope", "keyring", "keys", "plaintext", "scope"]
