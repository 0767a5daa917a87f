"""One read of everything the dashboard shows: the only module here that calls the API.

Each section is listed on its own with the user's client, so a kind the user may not list
(403) or that is not installed (404) leaves that section empty with a short note and the rest
of the page intact. Reads only: lists of the sealops kinds and Events, and one get of the
public-keys ConfigMap; never a Secret.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from controller.dashboard import common, keygens, kinds, rows
from sealer import errors
from sealer.kube import client, publickeys
from sealer.kube import errors as kerrors

__all__ = ["NOT_INSTALLED", "NOT_PERMITTED", "Section", "Snapshot", "collect"]

NOT_PERMITTED = "not permitted"
NOT_INSTALLED = "not installed"
MAX_EVENTS = 50

Row = TypeVar("Row")
JSON = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Section(Generic[Row]):
    rows: tuple[Row, ...] = ()
    problem: str = ""  # NOT_PERMITTED, NOT_INSTALLED or a scrubbed API error

    def count(self, state: common.State) -> int:
        return sum(1 for row in self.rows if getattr(row, "state", None) is state)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    now: datetime.datetime
    server: str
    namespace: str | None  # None: all namespaces
    controller_namespace: str
    gitsyncs: Section[rows.GitSyncRow]
    sealed_secrets: Section[rows.SealedSecretRow]
    vault_secrets: Section[rows.VaultSecretRow]
    vault_stores: Section[rows.StoreRow]
    cluster_vault_stores: Section[rows.StoreRow]
    keys: keygens.KeyView
    keys_problem: str
    events: Section[rows.EventRow]

    @property
    def scope(self) -> str:
        return f"namespace {self.namespace}" if self.namespace else "all namespaces"


def _problem(exc: errors.ClusterError) -> str:
    status = exc.status if isinstance(exc, kerrors.ApiError) else None
    if status == 403:
        return NOT_PERMITTED
    if status == 404:
        return NOT_INSTALLED
    return common.text(str(exc), limit=300)


def _listed(kube: client.KubeClient, res: client.Resource,
            namespace: str | None) -> tuple[list[JSON], str]:
    try:
        return kube.list(res, namespace=namespace if res.namespaced else None), ""
    except errors.ClusterError as exc:
        return [], _problem(exc)


def _section(items: list[JSON], problem: str,
             build: Callable[[Mapping[str, Any]], Row]) -> Section[Row]:
    built = sorted((build(item) for item in items),
                   key=lambda r: (getattr(r, "namespace", ""), getattr(r, "name", "")))
    return Section(rows=tuple(built), problem=problem)


def _ours(event: Mapping[str, Any]) -> bool:
    involved = common.mapping(event.get("involvedObject"))
    group = str(involved.get("apiVersion") or "").partition("/")[0]
    return involved.get("kind") in kinds.EVENT_KINDS and group in kinds.EVENT_GROUPS


def _events(items: list[JSON], problem: str) -> Section[rows.EventRow]:
    found = [rows.event_row(e) for e in items if _ours(e)]
    oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    found.sort(key=lambda r: r.time or oldest, reverse=True)
    return Section(rows=tuple(found[:MAX_EVENTS]), problem=problem)


def _public_keys(kube: client.KubeClient, namespace: str) -> tuple[JSON | None, str]:
    try:
        found = kube.get(kinds.CONFIGMAPS, publickeys.CONFIGMAP, namespace=namespace)
    except errors.ClusterError as exc:
        return None, _problem(exc)
    if found is None:
        return None, (f"ConfigMap {namespace}/{publickeys.CONFIGMAP} not found: is the "
                      "controller running there? (--controller-namespace)")
    return found, ""


def collect(kube: client.KubeClient, *, namespace: str | None, controller_namespace: str,
            now: datetime.datetime) -> Snapshot:
    """Read every section once. API errors become section notes; nothing is raised for them."""
    sealed, sealed_problem = _listed(kube, kinds.SEALED_SECRETS, namespace)
    configmap, keys_problem = _public_keys(kube, controller_namespace)
    counts = None if sealed_problem else keygens.values_per_key(sealed)
    view = keygens.key_view(
        configmap, source=f"ConfigMap {controller_namespace}/{publickeys.CONFIGMAP}",
        counts=counts)
    if sealed_problem and not keys_problem:
        keys_problem = f"values per generation unknown: SealedSecrets {sealed_problem}"
    return Snapshot(
        now=now, server=common.display_url(kube.server), namespace=namespace,
        controller_namespace=controller_namespace,
        gitsyncs=_section(*_listed(kube, kinds.GITSYNCS, namespace), rows.gitsync_row),
        sealed_secrets=_section(sealed, sealed_problem, rows.sealed_secret_row),
        vault_secrets=_section(*_listed(kube, kinds.VAULT_SECRETS, namespace),
                               rows.vault_secret_row),
        vault_stores=_section(*_listed(kube, kinds.VAULT_STORES, namespace), rows.store_row),
        cluster_vault_stores=_section(*_listed(kube, kinds.CLUSTER_VAULT_STORES, None),
                                      rows.store_row),
        keys=view, keys_problem=keys_problem or view.problem,
        events=_events(*_listed(kube, kinds.EVENTS, namespace)))
