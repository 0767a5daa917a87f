"""Keys and vectors for the crypto tests, loaded once per session (RSA keygen is slow)."""

from __future__ import annotations

import base64
import datetime
import json
import pathlib
from typing import Any

import pytest

from sealer import errors
from sealer.crypto import keys

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "vectors"
KUBESEAL = VECTORS / "kubeseal"
WYCHEPROOF = VECTORS / "wycheproof"
SEALOPS_V2 = VECTORS / "sealops-v2"
NOW = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)


def load_json(path: pathlib.Path) -> Any:
    return json.loads(path.read_text())


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def assert_unseal_error(excinfo: pytest.ExceptionInfo[Any], item: str = "k") -> None:
    """Exactly UnsealError (not a subclass), the uniform message, and nothing chained."""
    err = excinfo.value
    assert type(err) is errors.UnsealError
    assert str(err) == str(errors.UnsealError(item))
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__


@pytest.fixture(scope="session")
def kubeseal_keys() -> dict[str, keys.LegacyKey]:
    """The kubeseal RSA-2048 and RSA-4096 keys, each with its certificate."""
    found = {}
    for name in ("pub2048", "pub4096"):
        (key,) = keys.parse_private_pem(
            (KUBESEAL / f"{name}.key").read_bytes(),
            certificate=(KUBESEAL / f"{name}.crt").read_bytes(),
        )
        assert isinstance(key, keys.LegacyKey)
        found[name] = key
    return found


@pytest.fixture(scope="session")
def committed_generation() -> keys.KeyGeneration:
    """The fixed test generation of tests/vectors/sealops-v2 (RSA-4096)."""
    (gen,) = keys.parse_private_pem((SEALOPS_V2 / "private.pem").read_bytes())
    assert isinstance(gen, keys.KeyGeneration)
    return gen


@pytest.fixture(scope="session")
def generation() -> keys.KeyGeneration:
    return keys.generate(now=NOW, rsa_bits=2048)


@pytest.fixture(scope="session")
def other_generation() -> keys.KeyGeneration:
    return keys.generate(now=NOW + datetime.timedelta(days=1), rsa_bits=2048)
