"""Canary sweep for the crypto layer: a failed open never shows plaintext, keys or ciphertext."""

from __future__ import annotations

import base64
import traceback
import urllib.parse
from collections.abc import Callable

import pytest

from sealer import errors
from sealer.crypto import envelope, keyring, keys

CANARY = b"canary-4d1f0b9e-do-not-print"


def canary_forms(raw: bytes) -> list[str]:
    return [
        raw.decode(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        raw.hex(),
        urllib.parse.quote(raw),
        base64.b64encode(raw).decode()[4:20],  # a base64 run at another alignment
    ]


def rendered(err: BaseException) -> tuple[str, str]:
    """(message and plain traceback, traceback with the locals of our frames)."""
    tb = err.__traceback__
    while tb is not None and "/sealer/" not in tb.tb_frame.f_code.co_filename:
        tb = tb.tb_next  # skip this test's own frames, which hold the canary on purpose
    assert tb is not None
    ours = traceback.TracebackException(type(err), err, tb, capture_locals=True)
    plain = [str(err), repr(err), "".join(traceback.format_exception(err))]
    return "\n".join(plain), "".join(ours.format())


def failures(
    ring: keyring.Keyring, gen: keys.KeyGeneration
) -> list[tuple[str, Callable[[], object]]]:
    """(base64 ciphertext involved, a call that must fail) pairs."""
    v2 = ring.encrypt(CANARY, label=b"ns/name", item="k")
    v1 = ring.encrypt(CANARY, label=b"ns/name", item="k", version=1)
    raw = base64.b64decode(v2)
    tampered = base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()
    v1_cut = base64.b64decode(v1)[:300]
    return [
        (v2, lambda: ring.decrypt(v2, label=b"other/name", item="k")),
        (v1, lambda: ring.decrypt(v1, label=b"other/name", item="k")),
        (v2, lambda: ring.decrypt(v2, label=b"ns/name", item="other")),
        (tampered, lambda: ring.decrypt(tampered, label=b"ns/name", item="k")),
        (v2, lambda: ring.decrypt(v2[:-8], label=b"ns/name", item="k")),
        (v2, lambda: ring.decrypt(v2 + "\n", label=b"ns/name", item="k")),
        (v1, lambda: envelope.decrypt_v1(v1_cut, rsa=gen.rsa, label=b"", item="k")),
    ]


def test_no_failed_open_shows_the_plaintext_key_material_or_ciphertext(
    generation: keys.KeyGeneration,
) -> None:
    """Messages and tracebacks (even with our frames' locals) hold no plaintext or private key.

    Ciphertext may appear among captured locals (it is public, it sits in git), never in the
    message or the plain traceback.
    """
    ring = keyring.Keyring([generation])
    private_pem = keys.private_pem(generation).decode().splitlines()
    secrets_to_hide = canary_forms(CANARY) + private_pem[1:4]
    for ciphertext, attempt in failures(ring, generation):
        with pytest.raises(errors.UnsealError) as excinfo:
            attempt()
        plain, with_locals = rendered(excinfo.value)
        assert "value_b64 = " in with_locals or "blob = " in with_locals
        for secret in secrets_to_hide:
            assert secret not in plain + with_locals
        for start in range(0, len(ciphertext) - 16, 16):
            assert ciphertext[start : start + 16] not in plain
        assert "InvalidTag" not in plain and "Decryption failed" not in plain


def test_unseal_error_carries_no_chained_exception(generation: keys.KeyGeneration) -> None:
    ring = keyring.Keyring([generation])
    for _, attempt in failures(ring, generation):
        with pytest.raises(errors.UnsealError) as excinfo:
            attempt()
        assert excinfo.value.__cause__ is None
        assert excinfo.value.__context__ is None
