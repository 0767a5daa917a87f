"""The keyring: the newest key generation encrypts, any known one decrypts (MultiFernet).

Owns the choice of key and of envelope version, and the base64 text form of an envelope as it
appears in `spec.encryptedData[item]` (standard alphabet, padded, canonical). Called by
`sealer.manifests` (unseal), the controller and, through `seal_value`, the `seal` CLI on a
laptop that has only public keys.

Decryption picks the key, it does not guess: a v2 envelope names its key id; only v1 envelopes
(which carry none) are tried against the keys, the hinted one first, then newest first.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Iterator, Sequence

from sealer import errors
from sealer.crypto import envelope, keys

__all__ = ["MAX_B64_CHARS", "Keyring", "seal_value"]

# The largest value (1 MiB) in the largest envelope, base64-encoded, fits well below this.
MAX_B64_CHARS = 1_572_864  # 1.5 MiB
_OLDEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)

Key = keys.KeyGeneration | keys.LegacyKey


class Keyring:
    """Key generations ordered newest first (by certificate NotBefore; unknown age sorts last)."""

    def __init__(self, generations: Sequence[Key]) -> None:
        unique: dict[bytes, Key] = {}
        for gen in generations:
            if not isinstance(gen, keys.KeyGeneration | keys.LegacyKey):
                raise TypeError(f"not a key generation: {type(gen).__name__}")
            unique.setdefault(gen.key_id, gen)
        if not unique:
            raise ValueError("a keyring needs at least one key")
        self._keys: tuple[Key, ...] = tuple(sorted(unique.values(), key=_age, reverse=True))
        self._v2 = {k.key_id: k for k in self._keys if isinstance(k, keys.KeyGeneration)}

    @property
    def newest(self) -> Key:
        return self._keys[0]

    @property
    def key_ids(self) -> tuple[bytes, ...]:
        """Key ids, newest first."""
        return tuple(k.key_id for k in self._keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"Keyring(key_ids=[{', '.join(k.key_id_hex for k in self._keys)}])"

    def public(self) -> keys.PublicKeys:
        """The public keys of the newest generation: what `seal` should encrypt to."""
        return self.newest.public()

    def encrypt(
        self,
        value: bytes,
        *,
        label: bytes,
        item: str,
        version: int = 2,
        suite: envelope.Suite = envelope.Suite.PQ,
    ) -> str:
        """Encrypt `value` to the newest generation; base64 text of the envelope."""
        return seal_value(
            value, public=self.public(), label=label, item=item, version=version, suite=suite
        )

    def decrypt(
        self, value_b64: str, *, label: bytes, item: str, hint: bytes | None = None
    ) -> tuple[bytes, bytes]:
        """Open base64 text; returns (plaintext, key id that opened it).

        Raises `UnknownKeyError` when a v2 envelope names a key id not in the keyring, and
        `UnsealError(item)` for every other failure. `hint` is a key id to try first for v1.
        """
        blob = _b64decode(value_b64, item=item)
        if blob[: len(envelope.MAGIC)] == envelope.MAGIC:
            return self._decrypt_v2(blob, label=label, item=item)
        for key in self._v1_candidates(hint):
            try:
                return envelope.decrypt_v1(blob, rsa=key.rsa, label=label, item=item), key.key_id
            except errors.UnsealError:
                continue
        raise errors.UnsealError(item) from None

    def _decrypt_v2(self, blob: bytes, *, label: bytes, item: str) -> tuple[bytes, bytes]:
        key_id = envelope.envelope_key_id(blob)
        if key_id is None:
            raise errors.UnsealError(item) from None
        generation = self._v2.get(key_id)
        if generation is None:
            raise errors.UnknownKeyError(item, key_id.hex()) from None
        plaintext = envelope.decrypt_v2(blob, generation=generation, label=label, item=item)
        return plaintext, key_id

    def _v1_candidates(self, hint: bytes | None) -> list[Key]:
        hinted = [k for k in self._keys if k.key_id == hint]
        return hinted + [k for k in self._keys if k.key_id != hint]


def seal_value(
    value: bytes,
    *,
    public: keys.PublicKeys,
    label: bytes,
    item: str,
    version: int | None = None,
    suite: envelope.Suite = envelope.Suite.PQ,
) -> str:
    """Encrypt `value` for a cluster known only by its public keys; base64 text of the envelope.

    `version` None means 2 when `public` has v2 keys, else 1 (a bare kubeseal certificate).
    """
    if version is None:
        version = 2 if public.has_v2 else 1
    if version == 2:
        blob = envelope.encrypt_v2(value, public=public, label=label, item=item, suite=suite)
    elif version == 1:
        if public.rsa is None:
            raise errors.KeyMaterialError(f"key {public.key_id_hex} has no RSA key for format v1")
        blob = envelope.encrypt_v1(value, rsa=public.rsa, label=label)
    else:
        raise ValueError(f"unknown envelope version {version!r}; 1 and 2 exist")
    return base64.b64encode(blob).decode("ascii")


def _b64decode(value_b64: str, *, item: str) -> bytes:
    """Strict, canonical standard base64 with padding; the size is checked before decoding."""
    if not isinstance(value_b64, str):
        raise TypeError(f"an envelope is base64 text, not {type(value_b64).__name__}")
    if len(value_b64) > MAX_B64_CHARS or not value_b64.isascii():
        raise errors.UnsealError(item) from None
    try:
        blob = base64.b64decode(value_b64, validate=True)
    except (binascii.Error, ValueError):
        blob = None
    # Re-encoding refuses non-canonical forms (non-zero padding bits) and makes the text unique.
    if blob is None or base64.b64encode(blob).decode("ascii") != value_b64:
        raise errors.UnsealError(item) from None
    return blob


def _age(key: Key) -> datetime.datetime:
    return key.created_at or _OLDEST
