"""Which ServiceAccount a GitSync impersonates (issue 10, item 3)."""

from __future__ import annotations

import pytest

from controller.gitops import spec
from sealer import errors
from sealer.kube import client

CONTROLLER_NS = "sealops-system"
URL = "https://x.example/r.git"


def account(raw: dict[str, object], *, namespace: str, default: str | None) -> str | None:
    return spec.service_account_for(spec.parse({"url": URL, **raw}), namespace=namespace,
                                    controller_namespace=CONTROLLER_NS, default=default)


def test_the_named_service_account_wins_everywhere() -> None:
    for namespace in ("shop", CONTROLLER_NS):
        for default in (None, "gitops"):
            assert account({"serviceAccountName": "deployer"}, namespace=namespace,
                           default=default) == "deployer"


def test_tenants_without_one_get_the_default_and_the_admins_gitsyncs_do_not() -> None:
    assert account({}, namespace="shop", default="gitops") == "gitops"
    assert account({}, namespace="shop", default=None) is None
    assert account({}, namespace=CONTROLLER_NS, default="gitops") is None


@pytest.mark.parametrize("value", ["", "Bad", "a/b", "x" * 254, 3, "a\nb"])
def test_a_malformed_service_account_name_refuses_the_spec(value: object) -> None:
    with pytest.raises(errors.ManifestError, match=r"spec\.serviceAccountName"):
        spec.parse({"url": URL, "serviceAccountName": value})


def test_a_service_account_identity_leaves_its_groups_to_the_api_server() -> None:
    # The server adds system:serviceaccounts[:shop] and system:authenticated itself; naming them
    # would need `impersonate` on any group (the integration tests check the groups apply).
    who = client.Impersonation.service_account("shop", "deployer")
    assert who.user == "system:serviceaccount:shop:deployer"
    assert who.groups == ()


@pytest.mark.parametrize("user", ["", "a\r\nX-Evil: 1", "é", "a b"])
def test_an_identity_that_could_smuggle_headers_is_refused(user: str) -> None:
    with pytest.raises(ValueError, match="visible ASCII"):
        client.Impersonation(user=user)
