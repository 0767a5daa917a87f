"""Canary sweep of the cluster commands: no value, key material or token reaches their output.

A unique value is sealed without --cert, verified, re-encrypted, its keys backed up and
restored; every stdout, stderr, written file (but the plaintext input) and the controller's log
is searched for the value (raw, base64, hex, URL-encoded), for private key PEM and for the
API token of the kubeconfig.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sealer.kube import client
from sealer.manifests import safeyaml
from tests.integration.controller_fixtures import StartController
from tests.unit.cli.test_leaks import forms, make_canary

from .helpers import KEY_SELECTOR, load, seal, sealops, secret_yaml


def _sinks(results: list[Any]) -> list[str]:
    return [r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
            for r in results]


def test_no_value_key_or_token_reaches_the_output_of_the_cluster_commands(
    kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
    tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)
    canary = make_canary()
    token = json.loads(kubeconfig.read_text())["users"][0]["user"]["token"]
    key_data = [s["data"]["tls.key"][:48] for s in kube.list(
        client.SECRETS, namespace=ctl.key_namespace, label_selector=KEY_SELECTOR)]
    work = tmp_path / "work"
    work.mkdir()
    (work / "plain.yaml").write_bytes(
        secret_yaml(namespace=namespace, name="db", data={"password": canary}))
    (work / "pw").write_text("a passphrase\n")
    ns = ("--controller-namespace", ctl.key_namespace)
    url = ("--controller-url", ctl.url)
    results = [
        seal("cert", *ns, kubeconfig=kubeconfig, cwd=work),
        seal("secret", "plain.yaml", "-w", "sealed.yaml", *ns, kubeconfig=kubeconfig, cwd=work),
        seal("secret", "plain.yaml", *ns, kubeconfig=kubeconfig, cwd=work),
        seal("verify", "sealed.yaml", *url, kubeconfig=kubeconfig, cwd=work),
    ]
    doc = load(work / "sealed.yaml")
    doc["metadata"]["namespace"] = "elsewhere"
    (work / "moved.yaml").write_text(safeyaml.dump([doc]))
    results += [
        seal("verify", "moved.yaml", *url, kubeconfig=kubeconfig, cwd=work),
        seal("reencrypt", "moved.yaml", *url, kubeconfig=kubeconfig, cwd=work),
        seal("reencrypt", "sealed.yaml", *url, kubeconfig=kubeconfig, cwd=work),
        seal("verify", "sealed.yaml", *ns, kubeconfig=kubeconfig, cwd=work),  # proxy: no svc
        sealops("keys", "backup", "--namespace", ctl.key_namespace, "--out", "k.backup",
                "--passphrase-file", "pw", "--strength", "interactive", kubeconfig=kubeconfig,
                cwd=work),
        sealops("keys", "restore", "k.backup", "--namespace", ctl.key_namespace,
                "--passphrase-file", "pw", kubeconfig=kubeconfig, cwd=work),
    ]
    assert [r.returncode for r in results] == [0, 0, 0, 0, 1, 5, 0, 7, 0, 0], \
        [r.stderr.decode() for r in results]

    files = [p.read_bytes().decode(errors="replace") for p in work.iterdir()
             if p.name not in ("plain.yaml", "k.backup")]
    sinks = [*_sinks(results), *files, ctl.log_text(), ctl.get("/metrics")[1].decode()]
    for sink in sinks:
        for form in forms(canary):
            assert form not in sink
        assert token not in sink
        assert "PRIVATE KEY" not in sink
        for prefix in key_data:
            assert prefix not in sink
