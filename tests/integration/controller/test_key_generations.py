"""`sealops keys list|new|retire` against a running controller: the compromised-key runbook's
steps do what the runbook says (a new generation seals at once; a retired one opens nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller import cli, status
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    StartController,
    ready_condition,
    sealed_secret,
)


def sealops(kubeconfig: Path, *args: str,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["--kubeconfig", str(kubeconfig), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _reason(kube: Any, namespace: str, name: str) -> str:
    found: dict[str, Any] = wait_for(
        lambda: ready_condition(kube.get(SEALOPS, name, namespace=namespace)),
        timeout=120, what=f"SealedSecret {name} Ready condition")
    return str(found["reason"])


def test_a_new_generation_seals_and_a_retired_one_opens_nothing(
    kube: Any, namespace: str, kubeconfig: Path, start_controller: StartController,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctl = start_controller(watch=namespace)
    keys_ns = ctl.key_namespace
    old = ctl.public()
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=old,
                                       data={"password": b"canary-keygen-1"}),
                namespace=namespace)
    assert _reason(kube, namespace, "db") == "Succeeded"

    code, out, _ = sealops(kubeconfig, "keys", "list", "--namespace", keys_ns, capsys=capsys)
    assert code == 0
    assert out.splitlines()[1].split()[::2] == [old.key_id.hex(), "active"]
    code, out, _ = sealops(kubeconfig, "keys", "retire", old.key_id.hex(), "--namespace",
                           keys_ns, capsys=capsys)
    assert code == 4  # the only generation seals: it cannot be retired

    code, out, _ = sealops(kubeconfig, "keys", "new", "--namespace", keys_ns, capsys=capsys)
    assert code == 0
    new_id = out.split()[3]
    wait_for(lambda: ctl.public().key_id.hex() == new_id, timeout=120,
             what="the controller to seal with the new generation")

    code, out, err = sealops(kubeconfig, "keys", "retire", old.key_id.hex(), "--namespace",
                             keys_ns, capsys=capsys)
    assert (code, err) == (0, ""), err
    secret = kube.get(client.SECRETS, f"sealops-key-{old.key_id.hex()}", namespace=keys_ns)
    assert secret["metadata"]["labels"]["sealops.dev/sealing-key"] == "retired"
    code, out, _ = sealops(kubeconfig, "keys", "list", "--namespace", keys_ns, capsys=capsys)
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [(r[0], r[2]) for r in rows] == [(old.key_id.hex(), "retired"), (new_id, "active")]
    assert rows[1][3] == "yes"

    # Once the controller reloads (at once when it watches its own namespace, else with its
    # key-renewal tick, every minute), the object sealed to the retired key no longer opens.
    def refused() -> bool:
        code, _, err = sealops(kubeconfig, "reconcile", "sealedsecret", "db", "-n", namespace,
                               "--timeout", "2m", capsys=capsys)
        return code == 1 and "UnknownKey" in err

    wait_for(refused, timeout=240, interval=5, what="the retired key to stop opening")
    obj = kube.get(SEALOPS, "db", namespace=namespace)
    assert obj["status"][status.LAST_HANDLED] == \
        obj["metadata"]["annotations"][status.RECONCILE_REQUESTED_AT]
    assert "canary-keygen-1" not in ctl.log_text()
