"""Bitnami key Secrets next to native generations, created in either order (issue 10, item 11).

A Bitnami key newer than the native generation used to make /v1/cert.pem drop connections and
a restarted controller exit ("the newest key is a legacy key").
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization

from controller.keys import registry
from sealer.crypto import keyring, keys, scope
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    BITNAMI,
    StartController,
    secret_data,
)

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _bitnami_key_secret(kube: Any, namespace: str, *, created: datetime.datetime) -> keys.LegacyKey:
    """A Bitnami-style key Secret (tls.key + tls.crt only) whose certificate starts `created`."""
    gen = keys.generate(now=created, rsa_bits=2048)
    rsa_pem = gen.rsa.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    cert_pem = gen.certificate.public_bytes(serialization.Encoding.PEM)
    kube.create(client.SECRETS, {
        "metadata": {"name": f"sealed-secrets-key{created:%H%M%S}", "namespace": namespace,
                     "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
        "type": "kubernetes.io/tls",
        "data": {"tls.key": base64.b64encode(rsa_pem).decode(),
                 "tls.crt": base64.b64encode(cert_pem).decode()},
    }, namespace=namespace)
    (legacy,) = keys.parse_private_pem(rsa_pem, certificate=cert_pem)
    assert isinstance(legacy, keys.LegacyKey)
    return legacy


def _registry(kube: Any, namespace: str, now: datetime.datetime) -> registry.KeyRegistry:
    return registry.KeyRegistry(kube, namespace=namespace, bitnami_compat=True,
                                now=lambda: now,
                                generate=lambda at: keys.generate(now=at, rsa_bits=2048))


def test_a_bitnami_key_newer_than_the_native_generation_never_takes_over(
    kube: Any, namespace: str
) -> None:
    first = _registry(kube, namespace, T0)
    assert first.ensure(renewal=datetime.timedelta(days=30)) is True
    native = first.newest
    legacy = _bitnami_key_secret(kube, namespace, created=T0 + datetime.timedelta(days=1))

    # A restarted controller (a fresh registry) loads both and keeps sealing natively.
    restarted = _registry(kube, namespace, T0 + datetime.timedelta(days=2))
    assert restarted.ensure(renewal=datetime.timedelta(days=30)) is False
    assert restarted.newest.key_id == native.key_id
    assert restarted.keyring.newest is restarted.newest
    assert {k.key_id for k in restarted.keyring} == {native.key_id, legacy.key_id}
    # Renewal is due from the native generation's age, not the Bitnami key's.
    late = _registry(kube, namespace, T0 + datetime.timedelta(days=30, seconds=1))
    assert late.ensure(renewal=datetime.timedelta(days=30)) is True


def test_a_bitnami_key_alone_gets_a_native_generation_beside_it(kube: Any, namespace: str) -> None:
    legacy = _bitnami_key_secret(kube, namespace, created=T0 + datetime.timedelta(days=5))
    reg = _registry(kube, namespace, T0)
    assert reg.ensure(renewal=None) is True  # the native one is older than the Bitnami key
    assert isinstance(reg.newest, keys.KeyGeneration)
    assert legacy.key_id in reg.keyring.key_ids


def test_the_controller_starts_and_serves_the_native_cert_beside_a_newer_bitnami_key(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    key_ns = f"keys-{namespace}"
    kube.create(client.NAMESPACES, {"metadata": {"name": key_ns}})
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    legacy = _bitnami_key_secret(kube, key_ns, created=future)
    ctl = start_controller(watch=namespace, key_namespace=key_ns, args=("--bitnami-compat",))

    status, cert = ctl.get("/v1/cert.pem")
    assert status == 200
    public = ctl.public()
    assert public.has_v2 and public.key_id != legacy.key_id
    assert public.certificate is not None
    assert cert == public.certificate.public_bytes(serialization.Encoding.PEM)

    # A value sealed with the Bitnami certificate (as kubeseal did before the migration) opens.
    label = scope.label(scope.Scope.STRICT, namespace=namespace, name="old")
    old = keyring.seal_value(b"from-bitnami", public=legacy.public(), label=label, item="k")
    kube.create(BITNAMI, {
        "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": "old", "namespace": namespace},
        "spec": {"encryptedData": {"k": old}}}, namespace=namespace)
    got = wait_for(lambda: kube.get(client.SECRETS, "old", namespace=namespace),
                   what="the Secret sealed with the Bitnami certificate")
    assert secret_data(got) == {"k": b"from-bitnami"}

    # A restart with the same keys comes up again (it used to exit).
    ctl.stop()
    again = start_controller(watch=namespace, key_namespace=key_ns, args=("--bitnami-compat",))
    assert again.public().key_id == public.key_id


def test_a_newer_bitnami_key_added_while_running_is_loaded_and_changes_no_cert(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace, args=("--bitnami-compat",))
    before = ctl.get("/v1/cert.pem")
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    legacy = _bitnami_key_secret(kube, ctl.key_namespace, created=future)
    # The key loop reloads (at most every 60 s); before the fix that reload raised.
    wait_for(lambda: b"sealops_key_generations 2" in ctl.get("/metrics")[1], timeout=120,
             what="the Bitnami key to be loaded")

    label = scope.label(scope.Scope.STRICT, namespace=namespace, name="late")
    value = keyring.seal_value(b"late", public=legacy.public(), label=label, item="k")
    kube.create(BITNAMI, {
        "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": "late", "namespace": namespace},
        "spec": {"encryptedData": {"k": value}}}, namespace=namespace)
    got = wait_for(lambda: kube.get(client.SECRETS, "late", namespace=namespace),
                   what="the Secret sealed with the newly added Bitnami key")
    assert secret_data(got) == {"k": b"late"}
    assert ctl.get("/v1/cert.pem") == before
