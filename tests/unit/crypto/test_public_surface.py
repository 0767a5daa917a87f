"""The public surface of sealer.crypto is pinned: others code against these names."""

from __future__ import annotations

import inspect

import sealer.crypto
from sealer.crypto import envelope, keyring, keys, plaintext, scope


def test_package_exports_exactly_its_modules() -> None:
    assert sealer.crypto.__all__ == ["envelope", "keyring", "keys", "plaintext", "scope"]


def test_module_all_lists_are_pinned() -> None:
    assert plaintext.__all__ == ["SecretBytes"]
    assert scope.__all__ == ["Scope", "label"]
    assert keys.__all__ == [
        "KEY_ID_LEN",
        "KeyGeneration",
        "LegacyKey",
        "PublicKeys",
        "check_certificate",
        "derive_key_id",
        "generate",
        "parse_private_pem",
        "parse_public_pem",
        "private_pem",
        "public_pem",
    ]
    assert envelope.__all__ == [
        "MAGIC",
        "MAX_VALUE_BYTES",
        "Suite",
        "decrypt_v1",
        "decrypt_v2",
        "encrypt_v1",
        "encrypt_v2",
        "envelope_key_id",
    ]
    assert keyring.__all__ == [
        "MAX_B64_CHARS",
        "Base64Rules",
        "Keyring",
        "decode_base64",
        "seal_value",
    ]


def test_signatures_other_modules_rely_on() -> None:
    def sig(func: object) -> str:
        return str(inspect.signature(func))  # type: ignore[arg-type]

    assert (
        sig(keys.generate)
        == "(*, now: 'datetime.datetime', rsa_bits: 'int' = 4096) -> 'KeyGeneration'"
    )
    assert (
        sig(envelope.encrypt_v1)
        == "(value: 'bytes', *, rsa: 'rsa.RSAPublicKey', label: 'bytes') -> 'bytes'"
    )
    assert sig(envelope.decrypt_v2) == (
        "(blob: 'bytes', *, generation: 'keys.KeyGeneration', label: 'bytes', item: 'str')"
        " -> 'bytes'"
    )
    assert sig(keyring.Keyring.decrypt) == (
        "(self, value_b64: 'str', *, label: 'bytes', item: 'str', hint: 'bytes | None' = None,"
        " rules: 'Base64Rules' = <Base64Rules.CANONICAL: 'canonical'>)"
        " -> 'tuple[bytes, bytes]'"
    )
    assert [int(s) for s in envelope.Suite] == [1, 2]
    assert keys.KEY_ID_LEN == 8


def test_crypto_imports_no_io_or_cluster_libraries() -> None:
    forbidden = (
        "kubernetes",
        "kopf",
        "hvac",
        "click",
        "yaml",
        "sealer.keystore",
        "sealer.manifests",
    )
    for module in (envelope, keyring, keys, plaintext, scope):
        source = inspect.getsource(module)
        for name in forbidden:
            assert f"import {name}" not in source and f"from {name}" not in source, (module, name)
