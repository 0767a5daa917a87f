"""Append sealops envelope vectors; never change or remove one.

Run from the repository root: `.venv/bin/python tests/vectors/sealops-v2/generate.py`.

- `private.pem` / `public.pem`: a fixed TEST key generation (never use it for anything real).
  Created once if absent, never overwritten.
- `vectors.json`: a list of objects with `format`, `suite`, `key_id`, `namespace`, `name`,
  `scope`, `label_b64`, `item`, `plaintext_b64`, `ciphertext_b64`. Existing entries are kept
  exactly; a case from CASES that is not yet present is encrypted and appended. To pin a new
  case or a new format, add it to CASES and rerun. tests/unit/crypto checks that every entry
  still opens (golden vectors are append-only).
"""

from __future__ import annotations

import base64
import datetime
import json
import pathlib

from sealer.crypto import envelope, keys, scope

HERE = pathlib.Path(__file__).resolve().parent
PRIVATE = HERE / "private.pem"
PUBLIC = HERE / "public.pem"
VECTORS = HERE / "vectors.json"
KEY_CREATED = datetime.datetime(2026, 11, 26, tzinfo=datetime.UTC)

# (suite, namespace, name, scope, item, plaintext)
CASES: list[tuple[str, str, str, str, str, bytes]] = [
    (suite, ns, name, sc, item, value)
    for suite in ("pq", "x25519")
    for ns, name, sc, item, value in [
        ("default", "db", "strict", "password", b"hunter2-canary"),
        ("default", "db", "strict", "empty", b""),
        ("team-a", "api", "namespace-wide", "token", b"tok-\x00\x01\xfe\xff"),
        ("prod", "tls", "cluster-wide", "tls.key", "k\u00e9y \u2603\n".encode()),
        ("kube-system", "x", "strict", "binary", bytes(range(256))),
        ("default", "big", "strict", "blob", bytes(i % 251 for i in range(70_000))),
    ]
]


def _load_or_create_generation() -> keys.KeyGeneration:
    if PRIVATE.exists():
        (gen,) = keys.parse_private_pem(PRIVATE.read_bytes())
        assert isinstance(gen, keys.KeyGeneration)
        return gen
    gen = keys.generate(now=KEY_CREATED, rsa_bits=4096)
    PRIVATE.write_bytes(keys.private_pem(gen))
    PUBLIC.write_bytes(keys.public_pem(gen.public()))
    return gen


def _case_of(vector: dict[str, str]) -> tuple[str, str, str, str, str, bytes]:
    return (
        vector["suite"],
        vector["namespace"],
        vector["name"],
        vector["scope"],
        vector["item"],
        base64.b64decode(vector["plaintext_b64"]),
    )


def _vector(gen: keys.KeyGeneration, case: tuple[str, str, str, str, str, bytes]) -> dict[str, str]:
    suite_name, ns, name, sc, item, value = case
    label = scope.label(scope.Scope(sc), namespace=ns, name=name)
    suite = {"pq": envelope.Suite.PQ, "x25519": envelope.Suite.X25519}[suite_name]
    blob = envelope.encrypt_v2(value, public=gen.public(), label=label, item=item, suite=suite)
    return {
        "format": "2",
        "suite": suite_name,
        "key_id": gen.key_id_hex,
        "namespace": ns,
        "name": name,
        "scope": sc,
        "label_b64": base64.b64encode(label).decode(),
        "item": item,
        "plaintext_b64": base64.b64encode(value).decode(),
        "ciphertext_b64": base64.b64encode(blob).decode(),
    }


def main() -> None:
    gen = _load_or_create_generation()
    vectors: list[dict[str, str]] = json.loads(VECTORS.read_text()) if VECTORS.exists() else []
    present = {_case_of(v) for v in vectors}
    added = [_vector(gen, case) for case in CASES if case not in present]
    VECTORS.write_text(json.dumps(vectors + added, indent=1) + "\n")
    print(f"{len(vectors)} kept, {len(added)} appended")


if __name__ == "__main__":
    main()
