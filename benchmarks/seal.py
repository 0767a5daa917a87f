"""Benchmark `seal`: command wall time and per-value seal/open rates, each against a baseline.

(a) `seal secret` (the installed command, a 3-item Secret, a freshly generated RSA-4096
    certificate) as a subprocess, median of --runs runs, next to
    `python -c "import cryptography.hazmat.primitives.hpke, ...asymmetric.rsa, yaml, click"`
    measured the same way, interleaved, in the same run. Goal: ratio <= 1.5. The same baseline
    plus `cryptography.x509` is printed too, for scale: loading a certificate with cryptography
    imports it (~20 ms), which is why `seal` reads the two fields it needs (key, validity) with
    `sealer.crypto._der` and builds the certificate object only when something asks for it.
(b) values sealed and opened per second through `sealer.crypto.keyring` (base64 text, scope
    label, header) for v1, v2-pq and v2-x25519, next to the raw primitives (RSA-4096 OAEP +
    AES-256-GCM; HPKE single-shot) measured in the same run. Goal: >= 80 % of raw.

Both subprocesses run with bytecode caching into a temporary PYTHONPYCACHEPREFIX (warmed up
first), as an installed package would, even when the shell sets PYTHONDONTWRITEBYTECODE.

Usage: .venv/bin/python benchmarks/seal.py [--runs 7] [--seconds 0.25]
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import aead

from sealer.crypto import envelope, keyring, keys
from sealer.keystore import files

BASELINE_IMPORTS = (
    "import cryptography.hazmat.primitives.hpke, "
    "cryptography.hazmat.primitives.asymmetric.rsa, yaml, click"
)
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  labels: {app: db}
type: Opaque
stringData:
  username: admin
  password: correct-horse-battery-staple
  url: postgres://db.prod.svc:5432/app
"""
VALUE = bytes(range(64))
LABEL = b"prod/db"
ITEM = "password"


def seal_command() -> list[str]:
    installed = shutil.which("seal", path=str(Path(sys.executable).parent))
    return [installed] if installed else [sys.executable, "-m", "sealer.cli"]


def wall_times(
    commands: dict[str, list[str]], *, runs: int, env: dict[str, str]
) -> dict[str, float]:
    """Median wall time per command; runs interleaved so drift hits all commands alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm-up: page cache and bytecode cache
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env=env)
    for _ in range(runs):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env=env)
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def rate(operation: Callable[[], object], *, seconds: float) -> float:
    """Operations per second over about `seconds`."""
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        operation()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def best_rates(
    pairs: dict[str, Callable[[], object]], *, seconds: float, rounds: int = 3
) -> dict[str, float]:
    """Best-of-`rounds` rate for each operation, rounds interleaved."""
    best = dict.fromkeys(pairs, 0.0)
    for _ in range(rounds):
        for name, operation in pairs.items():
            best[name] = max(best[name], rate(operation, seconds=seconds))
    return best


Operations = dict[str, Callable[[], object]]


def operations(generation: keys.KeyGeneration) -> dict[str, Operations]:
    """For each format: our seal/open and the raw primitives' seal/open."""
    public = generation.public()
    ring = keyring.Keyring([generation])
    return {
        "v1": v1_operations(generation, ring=ring),
        "v2-pq": v2_operations(
            public,
            ring=ring,
            suite_id=envelope.Suite.PQ,
            suite=hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
            recipient=hpke.MLKEM768X25519PublicKey(
                generation.mlkem768.public_key(), generation.x25519.public_key()
            ),
            private=hpke.MLKEM768X25519PrivateKey(generation.mlkem768, generation.x25519),
        ),
        "v2-x25519": v2_operations(
            public,
            ring=ring,
            suite_id=envelope.Suite.X25519,
            suite=hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305),
            recipient=generation.x25519.public_key(),
            private=generation.x25519,
        ),
    }


def v1_operations(generation: keys.KeyGeneration, *, ring: keyring.Keyring) -> Operations:
    public = generation.public()
    rsa_public = generation.rsa.public_key()
    oaep = padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=LABEL
    )
    nonce = bytes(12)

    def raw_seal() -> tuple[bytes, bytes]:
        session = aead.AESGCM.generate_key(bit_length=256)
        return rsa_public.encrypt(session, oaep), aead.AESGCM(session).encrypt(nonce, VALUE, None)

    wrapped, sealed = raw_seal()

    def raw_open() -> bytes:
        session = generation.rsa.decrypt(wrapped, oaep)
        return aead.AESGCM(session).decrypt(nonce, sealed, None)

    def ours_seal() -> str:
        return keyring.seal_value(VALUE, public=public, label=LABEL, item=ITEM, version=1)

    token = ours_seal()

    def ours_open() -> tuple[bytes, bytes]:
        return ring.decrypt(token, label=LABEL, item=ITEM)

    return {"seal": ours_seal, "seal_raw": raw_seal, "open": ours_open, "open_raw": raw_open}


def v2_operations(
    public: keys.PublicKeys,
    *,
    ring: keyring.Keyring,
    suite_id: envelope.Suite,
    suite: hpke.Suite,
    recipient: Any,
    private: Any,
) -> Operations:
    info = b"sealops.dev/envelope/v2\x00" + b"h" * 12 + LABEL + ITEM.encode()
    raw_ciphertext = suite.encrypt(VALUE, recipient, info=info)

    def raw_seal() -> bytes:
        return suite.encrypt(VALUE, recipient, info=info)

    def raw_open() -> bytes:
        return suite.decrypt(raw_ciphertext, private, info=info)

    def ours_seal() -> str:
        return keyring.seal_value(
            VALUE, public=public, label=LABEL, item=ITEM, version=2, suite=suite_id
        )

    token = ours_seal()

    def ours_open() -> tuple[bytes, bytes]:
        return ring.decrypt(token, label=LABEL, item=ITEM)

    return {"seal": ours_seal, "seal_raw": raw_seal, "open": ours_open, "open_raw": raw_open}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.25)
    args = parser.parse_args()

    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    generation = keys.generate(now=now, rsa_bits=4096)
    with tempfile.TemporaryDirectory(prefix="seal-bench-") as tmp:
        work = Path(tmp)
        public_path, _private = files.write_generation(generation, out_dir=work / "keys")
        (work / "secret.yaml").write_text(SECRET)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        times = wall_times(
            {
                "baseline": [sys.executable, "-c", BASELINE_IMPORTS],
                "baseline_x509": [sys.executable, "-c", BASELINE_IMPORTS + ", cryptography.x509"],
                "seal_secret": [
                    *seal_command(),
                    "secret",
                    str(work / "secret.yaml"),
                    "--cert",
                    str(public_path),
                ],
            },
            runs=args.runs,
            env=env,
        )
    ratio = times["seal_secret"] / times["baseline"]
    print(f"(a) seal secret       {times['seal_secret'] * 1000:7.1f} ms  (median of {args.runs})")
    print(f"    import baseline   {times['baseline'] * 1000:7.1f} ms")
    print(f"    ratio             {ratio:7.2f}    goal <= 1.5")
    floor = times["baseline_x509"] / times["baseline"]
    print(
        f"    baseline + x509   {times['baseline_x509'] * 1000:7.1f} ms  ratio {floor:.2f}"
        " (for scale: what importing cryptography.x509 would add; seal secret does not)"
    )

    results: dict[str, dict[str, float]] = {}
    print("(b) values/s          seal     raw  ratio |     open     raw  ratio")
    for name, ops in operations(generation).items():
        rates = best_rates(ops, seconds=args.seconds)
        seal_ratio = rates["seal"] / rates["seal_raw"]
        open_ratio = rates["open"] / rates["open_raw"]
        results[name] = {**rates, "seal_ratio": seal_ratio, "open_ratio": open_ratio}
        print(
            f"    {name:<12} {rates['seal']:9.0f} {rates['seal_raw']:7.0f} {seal_ratio:6.2f} |"
            f" {rates['open']:8.0f} {rates['open_raw']:7.0f} {open_ratio:6.2f}"
        )
    rate_ok = all(r["seal_ratio"] >= 0.8 and r["open_ratio"] >= 0.8 for r in results.values())
    print(
        json.dumps(
            {
                "benchmark": "seal",
                "seal_secret_s": round(times["seal_secret"], 4),
                "baseline_s": round(times["baseline"], 4),
                "baseline_x509_s": round(times["baseline_x509"], 4),
                "wall_ratio": round(ratio, 3),
                "wall_goal_met": ratio <= 1.5,
                "rates": {k: {m: round(v, 3) for m, v in r.items()} for k, r in results.items()},
                "rate_goal_met": rate_ok,
            },
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
