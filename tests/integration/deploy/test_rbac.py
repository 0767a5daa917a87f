"""What the installed RBAC lets the controller's account, and every authenticated user, do
(`kubectl auth can-i` with impersonation against the real RBAC authorizer)."""

from __future__ import annotations

import pytest

from tests.integration.deploy.conftest import ANONYMOUS, CONTROLLER_NS, Installed, Kubectl

TENANT = "tenant-a"  # any namespace: the rights are cluster-wide (need not exist)

CAN = [
    # SealedSecrets (ours and Bitnami's), cluster-wide; their status.
    ("list", "sealedsecrets.sealops.dev", "--all-namespaces"),
    ("watch", "sealedsecrets.sealops.dev", "--all-namespaces"),
    ("get", "sealedsecrets.sealops.dev", "-n", TENANT),
    ("list", "sealedsecrets.bitnami.com", "--all-namespaces"),
    ("watch", "sealedsecrets.bitnami.com", "--all-namespaces"),
    ("patch", "sealedsecrets.sealops.dev", "--subresource=status", "-n", TENANT),
    ("patch", "sealedsecrets.bitnami.com", "--subresource=status", "-n", TENANT),
    # Vault and GitOps objects.
    ("list", "vaultsecrets.sealops.dev", "--all-namespaces"),
    ("watch", "vaultstores.sealops.dev", "--all-namespaces"),
    ("watch", "clustervaultstores.sealops.dev"),
    ("watch", "gitsyncs.sealops.dev", "--all-namespaces"),
    ("patch", "gitsyncs.sealops.dev", "--subresource=status", "-n", TENANT),
    ("patch", "gitsyncs.sealops.dev", "-n", TENANT),  # a Receiver's reconcile request
    ("watch", "receivers.sealops.dev", "--all-namespaces"),
    ("patch", "receivers.sealops.dev", "--subresource=status", "-n", TENANT),
    ("watch", "alerts.sealops.dev", "--all-namespaces"),
    ("patch", "alerts.sealops.dev", "--subresource=status", "-n", TENANT),
    ("patch", "vaultsecrets.sealops.dev", "--subresource=status", "-n", TENANT),
    ("patch", "clustervaultstores.sealops.dev", "--subresource=status"),
    # Secrets and Events in any namespace.
    ("create", "secrets", "-n", TENANT),
    ("update", "secrets", "-n", TENANT),
    ("patch", "secrets", "-n", TENANT),
    ("delete", "secrets", "-n", TENANT),  # VaultSecret deletionPolicy: Delete
    ("watch", "secrets", "--all-namespaces"),
    ("create", "events", "-n", TENANT),
    # Its own namespace: key Secrets and the public-keys ConfigMap.
    ("create", "secrets", "-n", CONTROLLER_NS),
    ("list", "secrets", "-n", CONTROLLER_NS),
    ("get", "configmaps/sealops-public-keys", "-n", CONTROLLER_NS),
    ("create", "configmaps", "-n", CONTROLLER_NS),
    ("patch", "configmaps/sealops-public-keys", "-n", CONTROLLER_NS),
    # kopf: peering, namespaces, CRD observation.
    ("list", "clusterkopfpeerings.kopf.dev"),
    ("watch", "clusterkopfpeerings.kopf.dev"),
    ("patch", "clusterkopfpeerings.kopf.dev/sealops"),
    ("create", "clusterkopfpeerings.kopf.dev"),
    ("list", "kopfpeerings.kopf.dev", "-n", TENANT),
    ("watch", "kopfpeerings.kopf.dev", "-n", TENANT),
    ("patch", "kopfpeerings.kopf.dev/sealops", "-n", TENANT),
    ("watch", "namespaces"),
    ("watch", "customresourcedefinitions.apiextensions.k8s.io"),
    # Rolling opted-in workloads: watch them, server-side apply one annotation.
    ("watch", "deployments.apps", "-n", TENANT),
    ("patch", "deployments.apps", "-n", TENANT),
    ("patch", "statefulsets.apps", "-n", TENANT),
    ("patch", "daemonsets.apps", "-n", TENANT),
    # Vault kubernetes auth (TokenRequest).
    ("create", "serviceaccounts", "--subresource=token", "-n", TENANT),
]

CANNOT = [
    ("*", "*", "--all-namespaces"),
    ("*", "secrets", "-n", TENANT),
    ("delete", "customresourcedefinitions.apiextensions.k8s.io"),
    ("create", "customresourcedefinitions.apiextensions.k8s.io"),
    ("patch", "customresourcedefinitions.apiextensions.k8s.io"),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
    ("create", "rolebindings.rbac.authorization.k8s.io", "-n", TENANT),
    ("create", "clusterroles.rbac.authorization.k8s.io"),
    ("escalate", "clusterroles.rbac.authorization.k8s.io"),
    ("bind", "clusterroles.rbac.authorization.k8s.io"),
    ("escalate", "roles.rbac.authorization.k8s.io", "-n", CONTROLLER_NS),
    ("bind", "roles.rbac.authorization.k8s.io", "-n", CONTROLLER_NS),
    ("impersonate", "users"),
    ("impersonate", "serviceaccounts", "-n", TENANT),
    ("delete", "namespaces"),
    ("create", "namespaces"),
    ("patch", "namespaces"),
    ("create", "deployments.apps", "-n", TENANT),
    ("create", "statefulsets.apps", "-n", TENANT),
    ("create", "daemonsets.apps", "-n", TENANT),
    ("update", "deployments.apps", "-n", TENANT),
    ("delete", "deployments.apps", "-n", TENANT),
    ("patch", "replicasets.apps", "-n", TENANT),
    ("create", "pods", "-n", TENANT),
    ("create", "pods", "--subresource=exec", "-n", TENANT),
    ("create", "serviceaccounts", "-n", TENANT),
    ("create", "tokenreviews.authentication.k8s.io"),
    ("deletecollection", "secrets", "-n", TENANT),
    ("list", "configmaps", "--all-namespaces"),
    ("update", "configmaps", "-n", TENANT),
    ("patch", "configmaps/other", "-n", CONTROLLER_NS),
    # sealops objects are never written, only their status (and a GitSync's reconcile
    # request annotation, by patch).
    ("patch", "sealedsecrets.sealops.dev", "-n", TENANT),
    ("patch", "vaultsecrets.sealops.dev", "-n", TENANT),
    ("update", "vaultstores.sealops.dev", "-n", TENANT),
    ("update", "gitsyncs.sealops.dev", "-n", TENANT),
    ("patch", "receivers.sealops.dev", "-n", TENANT),
    ("patch", "alerts.sealops.dev", "-n", TENANT),
    ("patch", "clustervaultstores.sealops.dev"),
    ("create", "sealedsecrets.sealops.dev", "-n", TENANT),
    ("delete", "sealedsecrets.sealops.dev", "-n", TENANT),
    ("delete", "gitsyncs.sealops.dev", "-n", TENANT),
    # Peering objects of other kopf operators.
    ("patch", "clusterkopfpeerings.kopf.dev/default"),
    ("delete", "clusterkopfpeerings.kopf.dev/sealops"),
]


@pytest.mark.parametrize("check", CAN, ids=" ".join)
def test_the_controller_account_can(installed: Installed, kubectl: Kubectl,
                                    check: tuple[str, ...]) -> None:
    assert kubectl.can_i(*check)


@pytest.mark.parametrize("check", CANNOT, ids=" ".join)
def test_the_controller_account_cannot(installed: Installed, kubectl: Kubectl,
                                       check: tuple[str, ...]) -> None:
    assert not kubectl.can_i(*check)


AUTHENTICATED = ("system:authenticated",)


def test_any_authenticated_user_can_read_the_public_keys(installed: Installed,
                                                         kubectl: Kubectl) -> None:
    assert kubectl.can_i("get", "configmaps/sealops-public-keys", "-n", CONTROLLER_NS,
                         user="someone", groups=AUTHENTICATED)


@pytest.mark.parametrize("check", [
    ("get", "configmaps/other", "-n", CONTROLLER_NS),
    ("list", "configmaps", "-n", CONTROLLER_NS),
    ("watch", "configmaps", "-n", CONTROLLER_NS),
    ("update", "configmaps/sealops-public-keys", "-n", CONTROLLER_NS),
    ("delete", "configmaps/sealops-public-keys", "-n", CONTROLLER_NS),
    ("get", "secrets", "-n", CONTROLLER_NS),
    ("get", "secrets/sealops-key-0000", "-n", CONTROLLER_NS),
    ("list", "secrets", "-n", CONTROLLER_NS),
    ("get", "configmaps/sealops-public-keys", "-n", "default"),
], ids=" ".join)
def test_an_authenticated_user_cannot(installed: Installed, kubectl: Kubectl,
                                      check: tuple[str, ...]) -> None:
    assert not kubectl.can_i(*check, user="someone", groups=AUTHENTICATED)


def test_an_unauthenticated_caller_cannot_read_the_public_keys(installed: Installed,
                                                               kubectl: Kubectl) -> None:
    assert not kubectl.can_i("get", "configmaps/sealops-public-keys", "-n", CONTROLLER_NS,
                             user=ANONYMOUS, groups=("system:unauthenticated",))
