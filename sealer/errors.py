"""The one error tree of sealops.

Every error the library, the `seal` CLI and the controller raise on purpose derives from
`SealopsError`. Each class carries `exit_code` (used once, by the CLI's error mapper) and
`retryable` (used once, by the controller's translation to kopf's Temporary/PermanentError).
Messages name objects (namespace/name, file, item key, key id, Vault path) and never contain a
secret value, token, key material or ciphertext.

    SealopsError
    ├── UsageError              bad flags or arguments                       exit 2
    ├── ManifestError           unreadable YAML/JSON or a malformed object   exit 3
    │   └── InvalidNameError    a name that fails DNS-1123 validation
    ├── KeyMaterialError        a bad certificate, key file or key Secret    exit 4
    │   └── BackupError         a key backup that cannot be opened
    ├── UnsealError             any failure to open an envelope (uniform)    exit 5
    │   ├── UnknownKeyError     the envelope's key id is not in the keyring
    │   └── InvalidBase64Error  the value is not base64 text (public, so said plainly)
    ├── PolicyError             input refused by policy (e.g. plaintext)     exit 6
    └── ClusterError            the cluster or a remote service failed       exit 7, retryable
        ├── ConflictError       an object exists and is not ours
        └── VaultError          Vault refused or failed (path named, never a value)

Misuse of the API (wrong types, impossible argument combinations) raises `TypeError` or
`ValueError`, not a `SealopsError`.
"""

from __future__ import annotations

__all__ = [
    "BackupError",
    "ClusterError",
    "ConflictError",
    "InvalidBase64Error",
    "InvalidNameError",
    "KeyMaterialError",
    "ManifestError",
    "PolicyError",
    "SealopsError",
    "UnknownKeyError",
    "UnsealError",
    "UsageError",
    "VaultError",
]


class SealopsError(Exception):
    """Root of every error sealops raises on purpose."""

    exit_code: int = 1
    retryable: bool = False
    reason: str = "Error"


class UsageError(SealopsError):
    exit_code = 2
    reason = "UsageError"


class ManifestError(SealopsError):
    exit_code = 3
    reason = "ManifestError"


class InvalidNameError(ManifestError):
    reason = "InvalidName"


class KeyMaterialError(SealopsError):
    exit_code = 4
    reason = "KeyMaterialError"


class BackupError(KeyMaterialError):
    reason = "BackupError"


class UnsealError(SealopsError):
    """Opening an envelope failed.

    Deliberately uninformative: the same message whether the cause is a wrong key, a wrong
    scope, a tampered byte, a truncation, bad base64 or an unknown version (Fernet's
    InvalidToken). Only the item key is named.
    """

    exit_code = 5
    reason = "UnsealFailed"

    def __init__(self, item: str) -> None:
        self.item = item
        super().__init__(f"cannot unseal item {item!r}: no key opens it for this scope")


class UnknownKeyError(UnsealError):
    """A v2 envelope names a key id that is not in the keyring (the key id is public)."""

    reason = "UnknownKey"

    def __init__(self, item: str, key_id: str, *, advice: str | None = None) -> None:
        self.key_id = key_id
        advice = "re-seal it with the current certificate" if advice is None else advice
        SealopsError.__init__(
            self,
            f"cannot unseal item {item!r}: it was sealed for key {key_id}, which is not "
            f"in the keyring; {advice}",
        )
        self.item = item


class InvalidBase64Error(UnsealError):
    """The value is not base64 text, so it is no envelope at all.

    Whether text is valid base64 is visible to anyone holding it, so saying so reveals nothing
    about keys or plaintext; it spares users the misleading "no key opens it".
    """

    reason = "InvalidBase64"

    def __init__(self, item: str) -> None:
        SealopsError.__init__(self, f"cannot unseal item {item!r}: the value is not valid base64")
        self.item = item


class PolicyError(SealopsError):
    exit_code = 6
    reason = "PolicyViolation"


class ClusterError(SealopsError):
    exit_code = 7
    retryable = True
    reason = "ClusterError"


class ConflictError(ClusterError):
    retryable = False
    reason = "UpdateRefused"


class VaultError(ClusterError):
    reason = "VaultError"

    def __init__(self, message: str, *, reason: str = "VaultError", retryable: bool = True,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
