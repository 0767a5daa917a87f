"""`seal check` cannot be bypassed (issue 10 item 9): each way that once exited 0 fails now."""

from __future__ import annotations

import os

from sealer.manifests import safeyaml

from .conftest import SECRET_YAML, Seal

ESCAPED_KIND = """\
apiVersion: v1
kind: "Secr\\x65t"
metadata: &meta
  name: db
  namespace: prod
stringData:
  password: hunter2
"""


def test_an_escaped_kind_with_an_anchor_fails_the_check(run: Seal) -> None:
    (run.workdir / "s.yaml").write_text(ESCAPED_KIND)
    result = run(["check", "s.yaml"])
    assert result.exit_code == 1
    assert result.stdout.startswith("s.yaml:7: Secret prod/db item 'password': plaintext")
    assert "hunter2" not in result.output


def test_a_utf16_secret_fails_the_check(run: Seal) -> None:
    (run.workdir / "s.yaml").write_bytes(SECRET_YAML.encode("utf-16"))
    result = run(["check", "."])
    assert result.exit_code == 1
    assert "s.yaml:8: Secret prod/db item 'password': plaintext" in result.stdout


def test_a_secret_after_the_size_cap_fails_the_check(run: Seal) -> None:
    with (run.workdir / "big.yaml").open("w") as out:
        out.write("kind: ConfigMap\ndata:\n  pad: " + "x" * safeyaml.MAX_BYTES + "\n---\n")
        out.write(SECRET_YAML)
    result = run(["check"])
    assert result.exit_code == 1
    assert result.stdout.startswith("big.yaml: cannot check: ")
    assert "(--max-bytes)" in result.stdout
    raised = run(["check", "--max-bytes", str(8 << 20)])
    assert raised.exit_code == 1
    assert "big.yaml:12: Secret prod/db item 'password'" in raised.stdout


def test_an_unparsable_yaml_file_fails_the_check(run: Seal) -> None:
    (run.workdir / "broken.yml").write_text("kind: ConfigMap\ndata: [\n")
    result = run(["check"])
    assert result.exit_code == 1
    assert result.stdout.startswith("broken.yml:3: cannot check: ")


def test_a_fifo_in_a_scanned_directory_is_skipped_with_a_message(run: Seal) -> None:
    # In-process the old code would block here forever on open(); the subprocess variant is in
    # tests/integration/cli/test_seal_check_special_files.py.
    os.mkfifo(run.workdir / "pipe.yaml")
    (run.workdir / "cm.yaml").write_text("kind: ConfigMap\n")
    result = run(["check"])
    assert result.exit_code == 0, result.output
    assert "seal: pipe.yaml: skipped: a FIFO, not a regular file" in result.stderr
