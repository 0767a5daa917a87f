"""The kinds the dashboard lists, and where they live in the API (no discovery needed)."""

from __future__ import annotations

from sealer.kube import client

GROUP = "sealops.dev"
VERSION = "v1alpha1"

GITSYNCS = client.Resource(GROUP, VERSION, "GitSync", "gitsyncs", True)
SEALED_SECRETS = client.Resource(GROUP, VERSION, "SealedSecret", "sealedsecrets", True)
VAULT_SECRETS = client.Resource(GROUP, VERSION, "VaultSecret", "vaultsecrets", True)
VAULT_STORES = client.Resource(GROUP, VERSION, "VaultStore", "vaultstores", True)
CLUSTER_VAULT_STORES = client.Resource(GROUP, VERSION, "ClusterVaultStore",
                                       "clustervaultstores", False)
EVENTS = client.EVENTS
CONFIGMAPS = client.CONFIGMAPS

# Events about these kinds are "ours" (Bitnami's SealedSecret too, under --bitnami-compat).
EVENT_KINDS = frozenset({"GitSync", "SealedSecret", "VaultSecret", "VaultStore",
                         "ClusterVaultStore"})
EVENT_GROUPS = frozenset({GROUP, "bitnami.com"})
