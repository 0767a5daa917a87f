"""`seal secret --cert` stays lean: what it must not import (the benchmark's budget).

Not a cluster test, but a subprocess one, so it lives with the integration tests. The heavy
imports each cost milliseconds of every `seal secret` run: `cryptography.x509` (~20 ms; the
certificate is read by `sealer.crypto._der`), `hashlib` (~2 ms; key ids use cryptography's
SHA-256), OpenSSL's Python backend (a trial X25519 exchange), PyNaCl (backups only) and of
course the cluster clients.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

NOT_FOR_SEALING = ("cryptography.x509", "hashlib", "_hashlib",
                   "cryptography.hazmat.backends.openssl", "nacl", "kubernetes", "kopf",
                   "hvac", "urllib3", "sealer.kube")
SECRET = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\n" \
         "stringData: {password: x}\n"


def test_seal_secret_with_a_cert_file_imports_none_of_the_heavy_modules(tmp_path: Path) -> None:
    generated = subprocess.run([sys.executable, "-m", "sealer.cli", "keys", "generate", "--out",
                                "k", "--rsa-bits", "2048"], cwd=tmp_path, capture_output=True,
                               timeout=60, check=False)
    assert generated.returncode == 0, generated.stderr.decode()
    (tmp_path / "s.yaml").write_text(SECRET)
    program = textwrap.dedent(
        f"""
        import sys
        from sealer.cli import app
        def run(*args):
            try:
                app.main(list(args), prog_name="seal", standalone_mode=False)
            except SystemExit as exc:
                assert not exc.code, exc.code
        run("secret", "s.yaml", "--cert", "k/public.pem", "-w", "sealed.yaml")
        run("secret", "s.yaml", "--cert", "k/public.pem", "--v1", "-w", "sealed-v1.yaml")
        run("raw", "--cert", "k/public.pem", "--namespace", "p", "--name", "n", "--item", "k",
            "--from-file", "s.yaml")
        print()  # after the raw envelope, which has no trailing newline
        print(sorted(m for m in sys.modules if m.startswith({NOT_FOR_SEALING!r})))
        """
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines()[-1] == "[]"
    assert (tmp_path / "sealed.yaml").exists() and (tmp_path / "sealed-v1.yaml").exists()
