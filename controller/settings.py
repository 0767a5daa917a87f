"""The controller's settings: one frozen dataclass built by the CLI, read everywhere else."""

from __future__ import annotations

import dataclasses
import datetime

from sealer import durations


@dataclasses.dataclass(frozen=True)
class ControllerSettings:
    namespace: str
    watch_namespaces: tuple[str, ...] = ()
    bitnami_compat: bool = False
    key_renewal: datetime.timedelta | None = datetime.timedelta(days=30)
    key_cutoff: datetime.datetime | None = None
    listen_host: str = "0.0.0.0"  # noqa: S104  (the Service in front of the pod needs it)
    listen_port: int = 8080
    priority: int = 0
    peering_name: str = "sealops"
    workers: int = 4
    rate_limit_per_minute: int = 60
    allow_local_sources: bool = False
    vault: bool = True
    gitops: bool = True
    gitops_cache_root: str | None = None  # default: $SEALOPS_GITOPS_CACHE_ROOT or a temp dir
    # Tenant GitSyncs without spec.serviceAccountName impersonate this account of their own
    # namespace (Flux's --default-service-account); None: they act as the controller.
    default_service_account: str | None = None
    # Tenant GitSyncs may not apply Pods asking for host access (controller.apply.podpolicy).
    refuse_privileged_pods: bool = False
    # Reconcile only objects labelled sharding.sealops.dev/key=<shard>; None: only unlabelled
    # ones (controller.sharding). `peering_name` must then be the shard's own.
    shard: str | None = None

    @property
    def clusterwide(self) -> bool:
        return not self.watch_namespaces


def parse_duration(text: str) -> datetime.timedelta:
    """Go-style durations as kubeseal takes them (`720h`, `30m`, `0`): `sealer.durations`."""
    return durations.parse(text)
