"""Scopes and the scope label that binds a ciphertext to where it may be opened.

The labels are kubeseal's (Bitnami Sealed Secrets `SealedSecretScope` / `EncryptionLabel`):
strict -> `b"<namespace>/<name>"`, namespace-wide -> `b"<namespace>"`, cluster-wide -> `b""`.
v1 envelopes use the label as the RSA-OAEP label; v2 envelopes put it into the HPKE `info`.
Names are validated (DNS-1123) by `sealer.manifests` before a label is built; this module only
refuses what would make two different objects share a label (a `/` or NUL, an empty part).
"""

from __future__ import annotations

import enum

__all__ = ["Scope", "label"]

_MAX_NAME = 253


class Scope(enum.Enum):
    """Where a sealed value may be opened. The values are kubeseal's `--scope` spellings."""

    STRICT = "strict"
    NAMESPACE_WIDE = "namespace-wide"
    CLUSTER_WIDE = "cluster-wide"


def label(scope: Scope, *, namespace: str, name: str) -> bytes:
    """The scope label for `scope`; `namespace`/`name` are ignored where the scope ignores them.

    Raises `ValueError` for a part that is empty, longer than 253 characters, or contains `/` or
    NUL (an ambiguous label could let a value move between objects).
    """
    if not isinstance(scope, Scope):
        raise TypeError(f"scope must be a Scope, not {type(scope).__name__}")
    if scope is Scope.CLUSTER_WIDE:
        return b""
    _check_part("namespace", namespace)
    if scope is Scope.NAMESPACE_WIDE:
        return namespace.encode("utf-8")
    _check_part("name", name)
    return f"{namespace}/{name}".encode()


def _check_part(what: str, value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not value or len(value) > _MAX_NAME or "/" in value or "\x00" in value:
        raise ValueError(f"{what} cannot be part of a scope label: {value!r}")
    value.encode("utf-8")  # lone surrogates raise UnicodeEncodeError (a ValueError) here
