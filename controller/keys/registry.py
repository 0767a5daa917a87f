"""The controller's key registry: loads, creates and renews key generations in the cluster.

A new generation is persisted (created as a Secret) before it is ever used, like the Bitnami
key registry. Replicas race safely: a generation's Secret name is derived from its key id, and
the due time of a renewal is derived from the newest generation, so a replica that loses the
race just reloads. Keys are never deleted by the controller. A Secret is loaded only when it is
one of the registry's records (`stored.not_a_record`), never for its label alone.

Under --bitnami-compat, Bitnami key Secrets load as legacy keys (RSA only) next to our own
generations, in any order of creation: they only decrypt (so a value sealed with the Bitnami
certificate still opens). The newest *native* generation seals, is what /v1/cert.pem and
/v1/public.pem serve, and alone decides when a renewal is due; a Bitnami key newer than it
changes none of that.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable

from controller.keys import stored
from sealer import errors
from sealer.crypto import keyring as keyring_mod
from sealer.crypto import keys
from sealer.kube import client
from sealer.kube import errors as kerrors

logger = logging.getLogger(__name__)

Now = Callable[[], datetime.datetime]
Generate = Callable[[datetime.datetime], keys.KeyGeneration]


def _generate(now: datetime.datetime) -> keys.KeyGeneration:
    return keys.generate(now=now)


class KeyRegistry:
    """Holds the current keyring; swapped atomically on reload."""

    def __init__(self, kube: client.KubeClient, *, namespace: str, bitnami_compat: bool,
                 now: Now, generate: Generate = _generate) -> None:
        self._kube = kube
        self._namespace = namespace
        self._bitnami = bitnami_compat
        self._now = now
        self._generate = generate
        self._lock = threading.Lock()
        self._ring: keyring_mod.Keyring | None = None
        self._broken: set[str] = set()

    @property
    def keyring(self) -> keyring_mod.Keyring:
        ring = self._ring
        if ring is None:
            raise RuntimeError("the key registry has not been loaded")
        return ring

    @property
    def newest(self) -> keys.KeyGeneration:
        """The newest native generation (a loaded keyring always holds one)."""
        own = self.own_generations()
        if not own:
            raise RuntimeError("the key registry holds no native generation")
        return max(own, key=lambda gen: gen.created_at)

    def own_generations(self) -> list[keys.KeyGeneration]:
        return [k for k in self.keyring if isinstance(k, keys.KeyGeneration)]

    def reload(self) -> keyring_mod.Keyring:
        """Read every key Secret (ours, and Bitnami's in compat mode) into a new keyring."""
        found: list[stored.Key] = []
        selectors = [f"{stored.KEY_LABEL}=active"]
        if self._bitnami:
            selectors.append(f"{stored.BITNAMI_KEY_LABEL}=active")
        for selector in selectors:
            for secret in self._kube.list(client.SECRETS, namespace=self._namespace,
                                          label_selector=selector):
                name = secret["metadata"]["name"]
                try:
                    key = stored.from_secret(secret)
                except errors.KeyMaterialError as exc:
                    if name not in self._broken:
                        self._broken.add(name)
                        logger.error("ignoring key Secret: %s", exc)
                    continue
                why = stored.not_a_record(secret, key)
                if why is None:
                    found.append(key)
                elif name not in self._broken:
                    self._broken.add(name)
                    logger.error("ignoring Secret %s/%s, not a key generation of the "
                                 "controller: %s", self._namespace, name, why)
        with self._lock:
            own = [k for k in found if isinstance(k, keys.KeyGeneration)]
            # Ours come first when ages tie; a keyring needs one generation of our own, and
            # legacy keys never seal, however new (the keyring's newest is a native one).
            legacy = [k for k in found if k not in own]
            self._ring = keyring_mod.Keyring(own + legacy) if own else None
        return self.keyring if self._ring is not None else self._empty()

    def _empty(self) -> keyring_mod.Keyring:
        raise errors.KeyMaterialError(f"no key generation in namespace {self._namespace}")

    def ensure(self, *, renewal: datetime.timedelta | None,
               cutoff: datetime.datetime | None = None) -> bool:
        """Make sure an active, current generation exists; True when one was created."""
        try:
            self.reload()
        except errors.KeyMaterialError:
            self._create(self._now())
            self.reload()
            return True
        newest_at = self.newest.created_at
        due = None
        if renewal is not None and renewal.total_seconds() > 0:
            due = newest_at + renewal
        if cutoff is not None and newest_at < cutoff:
            due = min(due, cutoff) if due else cutoff
        if due is None or self._now() < due:
            return False
        self._create(self._now())
        self.reload()
        return True

    def _create(self, now: datetime.datetime) -> None:
        gen = self._generate(now)
        body = stored.to_secret(gen, namespace=self._namespace)
        try:
            self._kube.create(client.SECRETS, body, namespace=self._namespace)
        except kerrors.ApiError as exc:
            if exc.status != 409:
                raise
        logger.info("created key generation %s", gen.key_id_hex)
