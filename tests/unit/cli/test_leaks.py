"""L51/L53 canary sweep: plaintext never reaches stdout, stderr, files, logs or exception text.

Each scenario feeds a unique canary through `seal` and then searches every sink for it in raw,
base64, base64url, hex and URL-encoded form. `seal unseal` printing a Secret is the one
intended exception and is only swept on its failure paths.
"""

from __future__ import annotations

import base64
import logging
import secrets as random_tokens
import traceback
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest

from sealer import errors
from sealer.manifests import safeyaml, secrets

from .conftest import KeyFiles, Seal


def make_canary() -> str:
    return "canary-" + random_tokens.token_hex(12) + "-z"  # 32 chars: base64 needs no padding


def forms(canary: str) -> list[str]:
    raw = canary.encode()
    return [
        canary,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        raw.hex(),
        raw.hex().upper(),
        urllib.parse.quote(canary),
        base64.b64encode(raw).decode()[:-4],
    ]


def assert_clean(canary: str, *sinks: str) -> None:
    for sink in sinks:
        for form in forms(canary):
            assert form not in sink


def secret_text(canary: str, *, name: str = "db", extra: str = "") -> str:
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n"
        f"  name: {name}\n  namespace: prod\n"
        "  annotations:\n"
        f'    kubectl.kubernetes.io/last-applied-configuration: \'{{"stringData": "{canary}"}}\'\n'
        f"stringData:\n  password: {canary}\n"
        f"data:\n  b64: {base64.b64encode(canary.encode()).decode()}\n{extra}"
    )


def files_text(directory: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace")
        for p in directory.rglob("*")
        if p.is_file() and p.name != "secret.yaml"
    )


Scenario = Callable[[Seal, KeyFiles, str], list[str]]


def sealing_succeeds(run: Seal, key_files: KeyFiles, canary: str) -> list[str]:
    (run.workdir / "secret.yaml").write_text(secret_text(canary))
    result = run(["secret", "secret.yaml", "--cert", str(key_files.public), "-w", "out.yaml"])
    assert result.exit_code == 0
    stdout = run(["secret", "secret.yaml", "--cert", str(key_files.public), "--kind", "bitnami"])
    return [result.output, stdout.output]


def sealing_fails(run: Seal, key_files: KeyFiles, canary: str) -> list[str]:
    outputs = []
    broken = [
        secret_text(canary, name="a/b"),
        secret_text(canary, extra="stringData: {}\n"),
        secret_text(canary, extra=f"  other: &x {canary}\n"),
        secret_text(canary, extra=f"  pin: {canary}: x\n"),
        secret_text(canary).replace(f"password: {canary}", f"password: !!binary {canary}"),
        secret_text(canary).replace(
            f"b64: {base64.b64encode(canary.encode()).decode()}", f"b64: {canary}!"
        ),
        secret_text(canary) + "  \x01\n",
    ]
    for text in broken:
        (run.workdir / "secret.yaml").write_text(text)
        result = run(["secret", "secret.yaml", "--cert", str(key_files.public), "-w", "out.yaml"])
        assert result.exit_code != 0
        outputs.append(result.output)
    (run.workdir / "secret.yaml").write_text(secret_text(canary))
    outputs.append(run(["secret", "secret.yaml"]).output)  # no --cert
    return outputs


def unsealing_fails(run: Seal, key_files: KeyFiles, canary: str) -> list[str]:
    (run.workdir / "secret.yaml").write_text(secret_text(canary))
    run(["secret", "secret.yaml", "--cert", str(key_files.public), "-w", "sealed.yaml"])
    doc = safeyaml.load_one((run.workdir / "sealed.yaml").read_bytes(), source="s")
    doc["metadata"]["namespace"] = "elsewhere"
    (run.workdir / "moved.yaml").write_text(safeyaml.dump([doc]))
    result = run(["unseal", "moved.yaml", "--key", str(key_files.private)])
    assert result.exit_code == 5
    return [result.output]


def raw_sealing(run: Seal, key_files: KeyFiles, canary: str) -> list[str]:
    ok = run(
        ["raw", "--cert", str(key_files.public), "--namespace", "p", "--name", "n", "--item", "k"],
        input=canary,
    )
    bad = run(
        ["raw", "--cert", str(key_files.public), "--namespace", "P", "--name", "n", "--item", "k"],
        input=canary,
    )
    assert ok.exit_code == 0 and bad.exit_code != 0
    return [ok.output, bad.output]


def checking(run: Seal, key_files: KeyFiles, canary: str) -> list[str]:
    (run.workdir / "plain.yaml").write_text(secret_text(canary))
    (run.workdir / "broken.yaml").write_text(f"kind: Secret\npassword: [{canary}\n")
    found = run(["check"])
    assert found.exit_code == 1
    fixed = run(["check", "plain.yaml", "--fix", "--cert", str(key_files.public)])
    (run.workdir / "broken.yaml").unlink()
    return [found.output, fixed.output]


def reencrypt_fails(run: Seal, key_files: KeyFiles, canary: str) -> list[str]:
    (run.workdir / "secret.yaml").write_text(secret_text(canary))
    run(["secret", "secret.yaml", "--cert", str(key_files.public), "-w", "sealed.yaml"])
    result = run(
        ["reencrypt", "sealed.yaml", "--key", str(key_files.private), "--cert", "secret.yaml"]
    )
    assert result.exit_code != 0
    return [result.output]


@pytest.mark.parametrize(
    "scenario",
    [sealing_succeeds, sealing_fails, unsealing_fails, raw_sealing, checking, reencrypt_fails],
    ids=lambda f: f.__name__,
)
def test_no_canary_reaches_any_sink(
    run: Seal, key_files: KeyFiles, scenario: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    canary = make_canary()
    with caplog.at_level(logging.DEBUG):
        outputs = scenario(run, key_files, canary)
    assert_clean(canary, *outputs, caplog.text, files_text(run.workdir))


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\n"
        "stringData: {k: CANARY, k: CANARY}\n",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\ndata: {k: CANARY}\n",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\n"
        "stringData: {k: !vault CANARY}\n",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\nstringData: [CANARY\n",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\n"
        "stringData: {k: 2024-13-45, CANARY: CANARY}\n",
    ],
)
def test_exception_text_and_tracebacks_carry_no_canary(text: str) -> None:
    canary = make_canary().replace("-z", "")
    with pytest.raises(errors.ManifestError) as info:
        doc = safeyaml.load_one(text.replace("CANARY", canary).encode(), source="in")
        secrets.parse_secret(doc)
    rendered = "".join(traceback.format_exception(info.value))
    assert_clean(canary, str(info.value), repr(info.value), rendered)
