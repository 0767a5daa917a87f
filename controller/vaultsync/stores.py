"""The store cache: the latest body of every VaultStore/ClusterVaultStore and one `VaultSession`
per store, reused by every sync through that store.

Fed by the store event handlers (`observe`, `forget`); read by `controller.vaultsync.reconcile`
(`entry`, `admit`). A session is keyed by the store's uid and a hash of its `spec`, so a status
write leaves it alone while a spec change (or a delete and re-create) closes it and builds a new
one: one login per store and token lifetime, never one per sync. The token itself is cached and
renewed inside the session (`controller.vault.client`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from controller.vault import client as vault_client
from controller.vault import store
from controller.vaultsync import credentials, objects
from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

logger = logging.getLogger(__name__)

JSON = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Entry:
    ref: objects.StoreRef
    fingerprint: str
    config: store.StoreConfig
    session: vault_client.VaultSession


def fingerprint(body: JSON) -> str:
    """The store's identity for session reuse: uid + a hash of its spec."""
    spec = json.dumps(body.get("spec"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(spec.encode()).hexdigest()[:32]
    return f"{body['metadata'].get('uid')}/{digest}"


def ref_of(body: JSON) -> objects.StoreRef:
    meta = body["metadata"]
    return objects.StoreRef(kind=body["kind"], name=meta["name"], namespace=meta.get("namespace"))


class StoreCache:
    """Thread-safe; sessions are built outside the lock and the first one built wins."""

    def __init__(self, kube: client.KubeClient, *, timeout: float,
                 observer: Callable[[str], vault_client.Observer] | None = None) -> None:
        self._kube = kube
        self._timeout = timeout
        self._observer = observer  # per store (named by `StoreRef.lane`): the metrics
        self._bodies: dict[objects.StoreRef, JSON] = {}
        self._entries: dict[objects.StoreRef, Entry] = {}
        self._lock = threading.Lock()
        self._building: dict[objects.StoreRef, threading.Lock] = {}

    def observe(self, body: JSON) -> None:
        """Record a store's latest body (the session follows on the next `entry`)."""
        with self._lock:
            self._bodies[ref_of(body)] = body

    def forget(self, ref: objects.StoreRef) -> None:
        with self._lock:
            self._bodies.pop(ref, None)
            self._building.pop(ref, None)
            entry = self._entries.pop(ref, None)
        if entry is not None:
            _close_later(entry.session)

    def body(self, ref: objects.StoreRef) -> JSON | None:
        """The latest store body seen, else read (events may lag behind a VaultSecret's)."""
        with self._lock:
            cached = self._bodies.get(ref)
        if cached is not None:
            return cached
        failure: errors.VaultError
        try:
            found = self._kube.get(ref.resource, ref.name, namespace=ref.namespace)
        except kerrors.ApiError as exc:
            failure = errors.VaultError(f"reading {ref} failed ({exc.status} {exc.reason})",
                                        reason="ApiError", retryable=exc.retryable)
        else:
            if found is not None:
                self.observe(found)
            return found
        raise failure

    def entry(self, ref: objects.StoreRef) -> Entry:
        """The store's parsed config and live session (built on first use or after a change)."""
        body = self.body(ref)
        if body is None:
            raise errors.VaultError(f"{ref} does not exist", reason="StoreNotFound",
                                    retryable=False)
        mark = fingerprint(body)
        with self._lock:
            current = self._entries.get(ref)
            building = self._building.setdefault(ref, threading.Lock())
        if current is not None and current.fingerprint == mark:
            return current
        with building:  # one build per store; the others wait and reuse it
            with self._lock:
                current = self._entries.get(ref)
            if current is not None and current.fingerprint == mark:
                return current
            built = self._build(ref, body, mark)
            with self._lock:
                self._entries[ref] = built
        if current is not None:
            _close_later(current.session)
        return built

    def _build(self, ref: objects.StoreRef, body: JSON, mark: str) -> Entry:
        spec = body.get("spec")
        config = store.parse_store(spec if isinstance(spec, dict) else {}, kind=ref.kind,
                                   store_namespace=ref.namespace)
        session = vault_client.VaultSession(
            config, credentials=credentials.for_store(self._kube, config),
            timeout=self._timeout, ca_pem=credentials.ca_pem(self._kube, config),
            observer=self._observer(ref.lane) if self._observer else None)
        logger.debug("new Vault session for %s", ref)
        return Entry(ref=ref, fingerprint=mark, config=config, session=session)

    def admit(self, entry: Entry, *, namespace: str) -> None:
        """Refuse (StoreNotAllowed) a namespace the store does not admit.

        A ClusterVaultStore is matched against the live labels of the Namespace object.
        """
        labels: dict[str, str] = {}
        if entry.config.store_namespace is None:
            failure: errors.VaultError | None = None
            try:
                ns = self._kube.get(client.NAMESPACES, namespace)
            except kerrors.ApiError as exc:
                failure = errors.VaultError(f"reading Namespace {namespace} failed "
                                            f"({exc.status} {exc.reason})", reason="ApiError")
            if failure is not None:
                raise failure
            labels = dict(((ns or {}).get("metadata") or {}).get("labels") or {})
        if not store.admits(entry.config, namespace=namespace, namespace_labels=labels):
            raise errors.VaultError(f"{entry.ref} does not admit namespace {namespace}",
                                    reason="StoreNotAllowed", retryable=False)

    def secrets_read_in(self, namespace: str) -> frozenset[str]:
        """Names of the Secrets in `namespace` that a known store reads (its credentials or
        CA): the store of this namespace and every ClusterVaultStore pointing there."""
        with self._lock:
            bodies = list(self._bodies.items())
        names: set[str] = set()
        for ref, body in bodies:
            if ref.namespace not in (None, namespace):
                continue
            for ns, name in secret_references(body.get("spec"),
                                                    store_namespace=ref.namespace):
                if ns == namespace:
                    names.add(name)
        return frozenset(names)

    def close(self) -> None:
        with self._lock:
            entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            entry.session.close()


def secret_references(spec: object, *, store_namespace: str | None
                      ) -> frozenset[tuple[str, str]]:
    """(namespace, name) of every Secret a store spec names (auth credentials, CA provider),
    read leniently: an invalid spec still names the Secrets it would read once fixed."""
    found: set[tuple[str, str]] = set()
    if not isinstance(spec, Mapping):
        return frozenset()
    auth = spec.get("auth")
    refs = [_at(auth, method, "secretRef") for method in ("token", "appRole")]
    provider = spec.get("caProvider")
    if isinstance(provider, Mapping) and provider.get("type", "Secret") == "Secret":
        refs.append(provider)
    for ref in refs:
        if not isinstance(ref, Mapping):
            continue
        name, namespace = ref.get("name"), ref.get("namespace") or store_namespace
        if isinstance(name, str) and isinstance(namespace, str):
            found.add((namespace, name))
    return frozenset(found)


def _at(value: object, *path: str) -> object:
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _close_later(session: vault_client.VaultSession) -> None:
    """Close (and revoke the token of) a replaced session without blocking the caller."""
    threading.Thread(target=session.close, name="vault-session-close", daemon=True).start()
