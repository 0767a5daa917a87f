"""The keyring: the newest key generation encrypts, any known one decrypts (MultiFernet).

Owns the choice of key and of envelope version, and the base64 text form of an envelope as it
appears in `spec.encryptedData[item]`. Called by `sealer.manifests` (unseal), the controller and,
through `seal_value`, the `seal` CLI on a laptop that has only public keys.

The key that encrypts is the newest *native* generation (v2 keys); kubeseal keys (`LegacyKey`,
RSA only) only decrypt, whatever their age, unless the keyring holds nothing else. So a Bitnami
key created after a native generation never takes over sealing.

Base64 text: `seal` writes standard base64 with padding, canonical. Reading follows
`Base64Rules`: CANONICAL (sealops.dev objects: exactly that form, so one envelope has one text)
or GO_STD (bitnami.com objects: exactly what Go's `base64.StdEncoding.DecodeString`, the decoder
of Bitnami's controller, accepts - CR and LF ignored anywhere, padding required, non-zero
trailing bits allowed; no other whitespace). Text that is not base64 under the rules raises
`InvalidBase64Error`, not the uniform `UnsealError`: base64 validity is public.

Decryption picks the key, it does not guess: a v2 envelope names its key id; only v1 envelopes
(which carry none) are tried against the keys, the hinted one first, then newest first.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
import re
from collections.abc import Iterator, Sequence

from sealer import errors
from sealer.crypto import envelope, keys

__all__ = ["MAX_B64_CHARS", "Base64Rules", "Keyring", "decode_base64", "seal_value"]

# The largest value (1 MiB) in the largest envelope, base64-encoded, fits well below this.
MAX_B64_CHARS = 1_572_864  # 1.5 MiB
_OLDEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)

Key = keys.KeyGeneration | keys.LegacyKey
# With a length that is a multiple of 4: whole quanta, the last one padded with at most "==".
_PADDED = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class Base64Rules(enum.Enum):
    """Which base64 texts of an envelope are read (see the module docstring)."""

    CANONICAL = "canonical"
    GO_STD = "go-std"


class Keyring:
    """Keys ordered newest first (by certificate NotBefore; unknown age sorts last).

    `newest` - the key that encrypts - is the newest native generation when there is one.
    """

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
        native = [k for k in self._keys if isinstance(k, keys.KeyGeneration)]
        self._sealing: Key = native[0] if native else self._keys[0]

    @property
    def newest(self) -> Key:
        """The key that encrypts: the newest native generation, else the newest legacy key."""
        return self._sealing

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
        self,
        value_b64: str,
        *,
        label: bytes,
        item: str,
        hint: bytes | None = None,
        rules: Base64Rules = Base64Rules.CANONICAL,
    ) -> tuple[bytes, bytes]:
        """Open base64 text; returns (plaintext, key id that opened it).

        Raises `InvalidBase64Error` for text that is not base64 under `rules`,
        `UnknownKeyError` when a v2 envelope names a key id not in the keyring, and
        `UnsealError(item)` for every other failure. `hint` is a key id to try first for v1.
        """
        blob = decode_base64(value_b64, item=item, rules=rules)
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


def decode_base64(
    value_b64: str, *, item: str, rules: Base64Rules = Base64Rules.CANONICAL
) -> bytes:
    """The bytes of an envelope's base64 text under `rules`; the size is checked first.

    Raises `InvalidBase64Error(item)` for text that is not base64 under `rules`, and
    `UnsealError(item)` for text longer than `MAX_B64_CHARS` (no envelope is that large).
    """
    if not isinstance(value_b64, str):
        raise TypeError(f"an envelope is base64 text, not {type(value_b64).__name__}")
    if not isinstance(rules, Base64Rules):
        raise TypeError(f"rules must be Base64Rules, not {type(rules).__name__}")
    if len(value_b64) > MAX_B64_CHARS:
        raise errors.UnsealError(item) from None
    text = value_b64
    if rules is Base64Rules.GO_STD:
        text = text.replace("\r", "").replace("\n", "")
    blob = _decode_padded(text) if text.isascii() else None
    if blob is None:
        raise errors.InvalidBase64Error(item) from None
    # Re-encoding refuses non-canonical forms (non-zero padding bits) and makes the text unique.
    if rules is Base64Rules.CANONICAL and base64.b64encode(blob).decode("ascii") != text:
        raise errors.InvalidBase64Error(item) from None
    return blob


def _decode_padded(text: str) -> bytes | None:
    """Standard alphabet, whole padded quanta; trailing bits are ignored (as Go does)."""
    if len(text) % 4 or _PADDED.fullmatch(text) is None:
        return None
    try:
        return binascii.a2b_base64(text.encode("ascii"))
    except (binascii.Error, ValueError):
        return None


def _age(key: Key) -> datetime.datetime:
    return key.created_at or _OLDEST
