"""A key generation for the keystore tests, made once per session."""

from __future__ import annotations

import datetime
import pathlib

import pytest

from sealer.crypto import keys

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "vectors"
NOW = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(scope="session")
def generation() -> keys.KeyGeneration:
    return keys.generate(now=NOW, rsa_bits=2048)
