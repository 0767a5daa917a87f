"""Keys for the manifest tests, made once per session (RSA key generation is slow)."""

from __future__ import annotations

import datetime
import pathlib

import pytest

from sealer.crypto import keyring, keys

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "vectors"
KUBESEAL = VECTORS / "kubeseal"
NOW = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)


@pytest.fixture(scope="session")
def generation() -> keys.KeyGeneration:
    return keys.generate(now=NOW, rsa_bits=2048)


@pytest.fixture(scope="session")
def new_generation() -> keys.KeyGeneration:
    return keys.generate(now=NOW + datetime.timedelta(minutes=1), rsa_bits=2048)


@pytest.fixture(scope="session")
def ring(generation: keys.KeyGeneration) -> keyring.Keyring:
    return keyring.Keyring([generation])


@pytest.fixture(scope="session")
def kubeseal_key() -> keys.LegacyKey:
    """kubeseal's RSA-2048 test key (tests/vectors/kubeseal), with its certificate."""
    if not (KUBESEAL / "pub2048.key").exists():
        pytest.skip("tests/vectors/kubeseal is missing")
    (key,) = keys.parse_private_pem(
        (KUBESEAL / "pub2048.key").read_bytes(),
        certificate=(KUBESEAL / "pub2048.crt").read_bytes(),
    )
    assert isinstance(key, keys.LegacyKey)
    return key
