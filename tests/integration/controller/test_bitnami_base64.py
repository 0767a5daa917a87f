"""Base64 of encryptedData under --bitnami-compat (issue 10, item 11): bitnami.com values are read
as Bitnami's controller reads them (Go's StdEncoding); sealops.dev values stay canonical; text
that is not base64 is reported as such, not as "no key opens it"."""

from __future__ import annotations

from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    BITNAMI,
    SEALOPS,
    StartController,
    ready_condition,
    sealed_secret,
    secret_data,
)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _wrapped(text: str) -> str:
    return "\r\n".join(text[i : i + 64] for i in range(0, len(text), 64)) + "\n"


def _nonzero_bits(text: str) -> str:
    assert text.endswith("=") and text[-2] != "="
    return text[:-2] + ALPHABET[ALPHABET.index(text[-2]) ^ 1] + "="


def test_bitnami_values_open_wrapped_or_with_trailing_bits_and_bad_base64_is_named(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace, args=("--bitnami-compat",))
    public = ctl.public()
    wrapped = sealed_secret(namespace=namespace, name="wrapped", data={"k": b"w"},
                            public=public, group="bitnami.com", version=1)
    wrapped["spec"]["encryptedData"]["k"] = _wrapped(wrapped["spec"]["encryptedData"]["k"])
    bits = sealed_secret(namespace=namespace, name="bits", data={"k": b"abc"},  # RSA-4096: one "="
                         public=public, group="bitnami.com", version=1)
    bits["spec"]["encryptedData"]["k"] = _nonzero_bits(bits["spec"]["encryptedData"]["k"])
    spaced = sealed_secret(namespace=namespace, name="spaced", data={"k": b"s"},
                           public=public, group="bitnami.com")
    spaced["spec"]["encryptedData"]["k"] = " " + spaced["spec"]["encryptedData"]["k"]
    ours = sealed_secret(namespace=namespace, name="ours", data={"k": b"o"}, public=public)
    ours["spec"]["encryptedData"]["k"] = _wrapped(ours["spec"]["encryptedData"]["k"])
    for res, obj in ((BITNAMI, wrapped), (BITNAMI, bits), (BITNAMI, spaced), (SEALOPS, ours)):
        kube.create(res, obj, namespace=namespace)

    for name, value in (("wrapped", b"w"), ("bits", b"abc")):
        got = wait_for(lambda n=name: kube.get(client.SECRETS, n, namespace=namespace),
                       what=f"Secret {name}")
        assert secret_data(got) == {"k": value}
    for res, name in ((BITNAMI, "spaced"), (SEALOPS, "ours")):
        cond = wait_for(lambda r=res, n=name: ready_condition(kube.get(r, n, namespace=namespace)),
                        what=f"a Ready condition on {name}")
        assert (cond["status"], cond["reason"]) == ("False", "InvalidBase64")
        assert "not valid base64" in cond["message"]
        assert "no key opens it" not in cond["message"]
        assert kube.get(client.SECRETS, name, namespace=namespace) is None
