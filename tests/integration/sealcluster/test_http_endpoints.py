"""The controller's HTTP endpoints as `seal` uses them: verify, rate limit, metrics, proxy."""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sealer.crypto import keys, scope
from sealer.kube import client
from sealer.manifests import safeyaml
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    StartController,
    sealed_secret,
)

from .helpers import seal

PODS = client.Resource("", "v1", "Pod", "pods", True)
SERVICES = client.Resource("", "v1", "Service", "services", True)
ENDPOINTS = client.Resource("", "v1", "Endpoints", "endpoints", True)
SERVICE_ACCOUNTS = client.Resource("", "v1", "ServiceAccount", "serviceaccounts", True)
FAILURE = b"the SealedSecret cannot be opened by this controller\n"


def _body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def _flip_last_byte(value: str) -> str:
    blob = bytearray(base64.b64decode(value))
    blob[-1] ^= 1
    return base64.b64encode(bytes(blob)).decode()


def test_verify_returns_one_body_for_every_failure_and_never_renders_templates(
    namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    canary = "canary-" + secrets.token_hex(8)
    good = sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                         data={"password": canary.encode()})
    good["spec"]["template"]["data"] = {
        "rendered": '{{ index . "password" }}', "also": "{{ .password | b64enc }}"}
    other_key = sealed_secret(namespace=namespace, name="db", data={"password": b"x"},
                              public=_foreign_public())
    wrong_scope = sealed_secret(namespace="elsewhere", name="db", public=ctl.public(),
                                data={"password": b"x"})
    wrong_scope["metadata"]["namespace"] = namespace
    widened = sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                            data={"password": b"x"}, sealed_scope=scope.Scope.STRICT)
    widened["metadata"]["name"] = "renamed"
    widened["metadata"]["annotations"] = {"sealedsecrets.bitnami.com/cluster-wide": "true"}
    tampered = json.loads(_body(good))
    tampered["spec"]["encryptedData"]["password"] = _flip_last_byte(
        good["spec"]["encryptedData"]["password"])
    truncated = json.loads(_body(good))
    truncated["spec"]["encryptedData"]["password"] = good["spec"]["encryptedData"][
        "password"][:40]
    garbage = json.loads(_body(good))
    garbage["spec"]["encryptedData"]["password"] = "not base64 at all!"

    status, body = ctl.post("/v1/verify", _body(good))
    assert (status, body) == (200, b"ok\n")  # the template is not evaluated, nothing echoed
    answers = {name: ctl.post("/v1/verify", _body(doc)) for name, doc in {
        "other key": other_key, "wrong scope": wrong_scope, "widened": widened,
        "tampered": tampered, "truncated": truncated, "garbage": garbage}.items()}
    assert answers == dict.fromkeys(answers, (409, FAILURE))
    assert canary not in ctl.log_text()


def _foreign_public() -> keys.PublicKeys:
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    return keys.generate(now=now, rsa_bits=2048).public()


def test_verify_and_rotate_share_a_rate_limit_that_answers_429(
    namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace, args=("--rate-limit", "3"))
    doc = _body(sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                              data={"k": b"v"}))

    codes = [ctl.post("/v1/verify" if i % 2 else "/v1/rotate", doc)[0] for i in range(6)]

    assert codes[:3] == [200, 200, 200]
    assert 429 in codes[3:]
    assert ctl.get("/v1/public.pem")[0] == 200  # reading keys is not rate limited
    metrics = ctl.get("/metrics")[1].decode()
    limited = {s.labels["endpoint"] for f in text_string_to_metric_families(metrics)
               for s in f.samples
               if s.name == "sealops_http_requests_total" and s.labels["code"] == "429"}
    assert limited & {"/v1/verify", "/v1/rotate"}


def test_seal_verify_reports_the_rate_limit_as_a_retryable_cluster_error(
    kubeconfig: Path, namespace: str, start_controller: StartController, tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace, args=("--rate-limit", "1"))
    doc = sealed_secret(namespace=namespace, name="db", public=ctl.public(), data={"k": b"v"})
    (tmp_path / "s.yaml").write_text(safeyaml.dump([doc]))
    assert ctl.post("/v1/verify", _body(doc))[0] == 200  # the bucket is now empty

    result = seal("verify", "s.yaml", "--controller-url", ctl.url, kubeconfig=kubeconfig,
                  cwd=tmp_path)  # retried for 2 + 4 + 8 s; one token comes back per minute

    assert result.returncode == 7
    assert "rate limiting; retry in a minute" in result.stderr.decode()


def test_metrics_count_unseals_by_outcome(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="ok", public=ctl.public(),
                                       data={"k": b"v"}), namespace=namespace)
    bad = sealed_secret(namespace=namespace, name="bad", public=ctl.public(), data={"k": b"v"})
    bad["spec"]["encryptedData"]["k"] = _flip_last_byte(bad["spec"]["encryptedData"]["k"])
    kube.create(SEALOPS, bad, namespace=namespace)

    def counts() -> dict[str, float]:
        found = {}
        for line in ctl.get("/metrics")[1].decode().splitlines():
            if line.startswith("sealops_unseal_total{"):
                labels, value = line.rsplit(" ", 1)
                found[labels.split('"')[1]] = float(value)
        return found

    seen = wait_for(lambda: (c := counts()) and c.get("Succeeded", 0) >= 1
                    and c.get("UnsealFailed", 0) >= 1 and c, what="unseal counts")
    assert seen["Succeeded"] >= 1 and seen["UnsealFailed"] >= 1
    text = ctl.get("/metrics")[1].decode()
    assert "sealops_unseal_duration_seconds_count" in text
    assert "# TYPE sealops_unseal_total counter" in text


# --- the default route: the API server's service proxy --------------------------------------


def _host_address() -> str | None:
    """A non-loopback IPv4 address of this machine (Endpoints refuse loopback addresses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent for UDP connect
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith(("127.", "0.", "169.254.")) else address


def _publish_service(kube: Any, *, namespace: str, address: str, port: int) -> None:
    """Service sealops-controller:8080 -> a Pod object whose IP is this host (no kubelet)."""
    wait_for(lambda: kube.get(SERVICE_ACCOUNTS, "default", namespace=namespace),
             what="the default ServiceAccount")
    kube.create(PODS, {"metadata": {"name": "controller"},
                       "spec": {"containers": [{"name": "c", "image": "sealops:test"}]}},
                namespace=namespace)
    kube.patch(PODS, "controller", {"status": {"podIP": address, "podIPs": [{"ip": address}]}},
               namespace=namespace, subresource="status")
    kube.create(SERVICES, {"metadata": {"name": "sealops-controller"}, "spec": {
        "ports": [{"name": "http", "port": 8080, "targetPort": port}]}}, namespace=namespace)
    kube.create(ENDPOINTS, {"metadata": {"name": "sealops-controller"}, "subsets": [{
        "addresses": [{"ip": address, "targetRef": {
            "kind": "Pod", "name": "controller", "namespace": namespace}}],
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}]}, namespace=namespace)


def test_seal_verify_and_reencrypt_reach_the_controller_through_the_service_proxy(
    kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
    tmp_path: Path
) -> None:
    address = _host_address()
    if address is None:
        pytest.skip("no non-loopback IPv4 address for an Endpoints object")
    port = free_port()
    ctl = start_controller(watch=namespace, args=("--listen", f"0.0.0.0:{port}"),
                           wait_ready=False)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: ctl.proc.poll() is not None or _healthy(url), timeout=60,
             what="the controller's /healthz")
    assert ctl.proc.poll() is None, ctl.log_text()[-3000:]
    _publish_service(kube, namespace=ctl.key_namespace, address=address, port=port)
    with urllib.request.urlopen(url + "/v1/public.pem", timeout=10) as resp:
        public = keys.parse_public_pem(resp.read())
    doc = sealed_secret(namespace=namespace, name="db", public=public, data={"k": b"v"})
    (tmp_path / "s.yaml").write_text(safeyaml.dump([doc]))

    verified = seal("verify", "s.yaml", "--controller-namespace", ctl.key_namespace,
                    kubeconfig=kubeconfig, cwd=tmp_path)
    rotated = seal("reencrypt", "s.yaml", "--controller-namespace", ctl.key_namespace,
                   kubeconfig=kubeconfig, cwd=tmp_path)
    missing = seal("verify", "s.yaml", "--controller-namespace", namespace,
                   kubeconfig=kubeconfig, cwd=tmp_path)

    assert (verified.returncode, verified.stdout) == (0, f"{namespace}/db: ok\n".encode()), \
        verified.stderr.decode()
    assert rotated.returncode == 0, rotated.stderr.decode()
    assert missing.returncode == 7
    assert f"service {namespace}/sealops-controller:8080 (through the API server at https://" \
        in missing.stderr.decode()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False
