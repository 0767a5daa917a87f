"""`seal reencrypt` over 500 files when the 251st cannot be written (issue 10 item 10).

The failure is real: the subprocess runs under RLIMIT_FSIZE, and the 251st file's new text is
larger than that limit, so writing it fails with EFBIG (Python ignores SIGXFSZ). The old code
had already replaced 250 files by then; now no file may change and no temporary file remain.
"""

from __future__ import annotations

import datetime
import resource
import subprocess
from pathlib import Path

import pytest

from sealer.crypto import keys, plaintext
from sealer.keystore import files
from sealer.manifests import safeyaml, seal, secrets

from .test_seal_executable import SEAL

pytestmark = pytest.mark.integration

LIMIT = 64 << 10


def _sealed(public: keys.PublicKeys, *, name: str, items: int) -> str:
    secret = secrets.SecretManifest(
        name=name, namespace="prod",
        data={f"k{i}": plaintext.SecretBytes(b"v" * 16) for i in range(items)},
    )
    return safeyaml.dump([seal.seal_secret(secret, public=public, scope=None)])


def test_a_failed_write_of_the_251st_of_500_files_changes_no_file(tmp_path: Path) -> None:
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    old = keys.generate(now=now, rsa_bits=2048)
    new = keys.generate(now=now + datetime.timedelta(minutes=1), rsa_bits=2048)
    files.write_generation(old, out_dir=tmp_path / "old")
    files.write_generation(new, out_dir=tmp_path / "new")
    work = tmp_path / "work"
    work.mkdir()
    names = []
    for index in range(500):
        name = f"s{index:03}.yaml"
        (work / name).write_text(_sealed(old.public(), name=f"s{index}",
                                         items=60 if index == 250 else 1))
        names.append(name)
    assert (work / "s250.yaml").stat().st_size > LIMIT > (work / "s249.yaml").stat().st_size
    before = {name: (work / name).read_bytes() for name in names}

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))

    result = subprocess.run(
        [*SEAL, "reencrypt", *names, "--key", str(tmp_path / "old" / "private.pem"),
         "--cert", str(tmp_path / "new" / "public.pem")],
        cwd=work, capture_output=True, timeout=900, check=False, preexec_fn=limit_file_size,
    )
    stderr = result.stderr.decode()
    assert result.returncode != 0, stderr
    assert "cannot write s250.yaml" in stderr and "no file was changed" in stderr
    assert {name: (work / name).read_bytes() for name in names} == before
    assert sorted(p.name for p in work.iterdir()) == names
