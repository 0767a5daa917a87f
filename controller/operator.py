"""Running the controller: key generations first, then HTTP, then kopf with mandatory peering.

    ensure an active key generation (persisted before first use) -> publish public keys
    -> serve HTTP -> renew keys in the background -> kopf watches SealedSecrets and Secrets

Liveness: every loop of the process (kopf's root tasks, the GitOps and Vault schedulers, the key
renewal, the HTTP server) is watched by `controller.http.health`; `/healthz` answers 503 naming
a dead or stuck loop, and the watchdog then exits the process with status 70 so that the
Deployment restarts it. kopf gives up after about a minute of API-server outage (its request
retries run out); it is not restarted in-process, because its startup and cleanup activities
start and stop our schedulers once per process. A stop asked for by a signal exits normally,
and quickly even when the API server is gone: from then on kopf's requests are not retried
(`UntilStopping`). A key namespace that does not exist is named and fatal at startup.

Peering is mandatory: replicas see each other through a KopfPeering (ClusterKopfPeering when
watching all namespaces) and only the one with the highest priority acts. Each replica draws a
random priority unless one is given, so two replicas never tie (a tie freezes both).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
import threading
import time
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import kopf

from controller import metrics as metrics_mod
from controller import peering, sharding, status
from controller.alerts import dispatch as alerts_mod
from controller.handlers import alerts, gitsyncs, receivers, rollouts, sealedsecrets, vaultsecrets
from controller.http import health as health_mod
from controller.http import hooks as hooks_mod
from controller.http import server as http_server
from controller.keys import publish, registry
from controller.receivers import service as receivers_mod
from controller.rollout import service as rollout
from controller.settings import ControllerSettings
from controller.unseal import reconcile
from sealer import errors
from sealer.kube import client, config
from sealer.kube import errors as kerrors

logger = logging.getLogger(__name__)

KOPF_BEAT_S = 5.0
KOPF_SILENCE_S = 60.0  # kopf's event loop blocked this long counts as stuck
SCHEDULER_SILENCE_S = 180.0  # the schedulers turn at least every 60 s
KOPF_STOP_TASK = "stop-flag checker"  # kopf's root task that ends on a signal or stop flag


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Controller:
    """Everything one controller process owns; `run()` blocks until stopped."""

    def __init__(self, settings: ControllerSettings, *, kubeconfig: str | None = None,
                 context: str | None = None) -> None:
        self.settings = settings
        self.kubeconfig = kubeconfig
        self.connection = config.load(kubeconfig=kubeconfig, context=context)
        self.kube = client.KubeClient(self.connection, pool_size=max(16, settings.workers * 2))
        self.metrics = metrics_mod.Metrics()
        self.keys = registry.KeyRegistry(self.kube, namespace=settings.namespace,
                                         bitnami_compat=settings.bitnami_compat, now=utcnow)
        self.metrics.watch_keys(lambda: metrics_mod.key_infos(self.keys.keyring),
                                renewal=settings.key_renewal)
        events = status.EventRecorder(self.kube, now=utcnow)
        self.stop_flag = threading.Event()
        # Loops of our own (GitOps, Vault, key renewal, rollouts) act only while kopf would.
        self.gate = peering.Gate(self.kube, peering_name=settings.peering_name,
                                 clusterwide=settings.clusterwide, now=utcnow)
        self.rollouts = rollout.Rollout(self.kube, controller_namespace=settings.namespace,
                                        events=events, metrics=self.metrics,
                                        gate=self.gate.open_for)
        self.ctx = reconcile.Context(
            kube=self.kube, keys=self.keys, controller_namespace=settings.namespace,
            events=events, metrics=self.metrics, now=utcnow, rollout=self.rollouts)
        self.http: http_server.Server | None = None
        self.health = health_mod.Health()
        self.stopping = threading.Event()  # set once a stop was asked for: loops may end
        self.watchdog = health_mod.Watchdog(self.health, stop=self.stopping)
        # Receiver webhooks (issue 14 item 2): indexed on every replica, served under /hook/.
        self.receivers = receivers_mod.Service(
            self.kube, now=utcnow, namespaces=settings.watch_namespaces,
            label_selector=sharding.label_selector(settings.shard))
        # Alerts (issue 14 item 3): every Event this controller posts may be forwarded.
        self.alerts = alerts_mod.Dispatcher(self.kube, now=utcnow)
        self.ctx.events.listeners.append(self.alerts.observe)

    def prepare(self) -> None:
        self._check_namespaces()
        self.ensure_keys()
        self._ensure_peering()
        endpoints = http_server.Endpoints(
            self.keys, self.metrics,
            limiter=http_server.RateLimiter(per_minute=self.settings.rate_limit_per_minute),
            health=self.health)
        self.http = http_server.serve(endpoints, host=self.settings.listen_host,
                                      port=self.settings.listen_port,
                                      hooks=hooks_mod.Hooks(self.receivers))
        http = self.http
        self.health.watch("http", max_silence=KOPF_SILENCE_S,
                          pulse=lambda: time.monotonic() if http.alive() else None)
        self.health.watch("key-renewal", max_silence=3 * self._renewal_period() + 120)
        self.health.beat("key-renewal")
        self.health.watch("kopf", max_silence=KOPF_SILENCE_S)
        threading.Thread(target=self._renewal_loop, name="sealops-keys", daemon=True).start()
        self.watchdog.start()

    def _check_namespaces(self) -> None:
        """A key namespace that does not exist is named and fatal (not a 404 on a Secret)."""
        try:
            missing = self.kube.get(client.NAMESPACES, self.settings.namespace) is None
        except kerrors.ApiError as exc:
            if exc.status != 403:
                raise
            return  # may not read Namespaces: the key Secrets will tell
        if missing:
            raise errors.ClusterError(
                f"namespace {self.settings.namespace} (--namespace) does not exist; create it "
                f"first (kubectl create namespace {self.settings.namespace})")
        for watched in self.settings.watch_namespaces:
            if self.kube.get(client.NAMESPACES, watched) is None:
                logger.warning("watched namespace %s (--watch-namespace) does not exist yet",
                               watched)

    def ensure_keys(self) -> None:
        created = self.keys.ensure(renewal=self.settings.key_renewal,
                                   cutoff=self.settings.key_cutoff)
        if created:
            logger.info("a new key generation is active: %s", self.keys.newest.key_id_hex)
        own = self.keys.own_generations()
        publish.publish(self.kube, self.keys.newest, namespace=self.settings.namespace,
                        key_ids=[g.key_id_hex for g in own])
        self.metrics.set_generations(len(self.keys.keyring))

    def _renewal_period(self) -> float:
        renewal = self.settings.key_renewal
        if renewal is not None and renewal.total_seconds() > 0:
            return max(0.5, min(60.0, renewal.total_seconds() / 10))
        return 60.0

    def _renewal_loop(self) -> None:
        try:
            self._renew_forever(self._renewal_period())
        finally:
            if not self.stop_flag.is_set():
                self.health.fail("key-renewal", "its thread has ended")

    def _renew_forever(self, period: float) -> None:
        while not self.stop_flag.wait(period):
            self.health.beat("key-renewal")
            # Shards only load key generations: the unsharded controller renews them.
            if self.settings.shard or not self.gate.open_for(self._gate_namespace()):
                try:
                    self.keys.reload()  # another replica renews; pick up what it made
                    self.metrics.set_generations(len(self.keys.keyring))
                except Exception:
                    logger.exception("reloading key generations failed")
                continue
            try:
                self.ensure_keys()
            except Exception:  # keep renewing; the next round retries
                logger.exception("key renewal failed")

    def _gate_namespace(self) -> str:
        watched = self.settings.watch_namespaces
        return watched[0] if watched else self.settings.namespace

    def _ensure_peering(self) -> None:
        name = self.settings.peering_name
        targets = [(peering.CLUSTER_PEERINGS, None)] if self.settings.clusterwide else \
            [(peering.KOPF_PEERINGS, ns) for ns in self.settings.watch_namespaces]
        for res, ns in targets:
            body: dict[str, Any] = {"apiVersion": "kopf.dev/v1", "kind": res.kind,
                                    "metadata": {"name": name}}
            if ns:
                body["metadata"]["namespace"] = ns
            try:
                self.kube.create(res, body, namespace=ns)
            except kerrors.ApiError as exc:
                if exc.status != 409:
                    raise

    def registry(self) -> kopf.OperatorRegistry:
        reg = kopf.OperatorRegistry()
        ours = self.settings
        conn = self.connection

        @kopf.on.startup(registry=reg)
        def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
            _configure(settings, workers=ours.workers, peering_name=ours.peering_name,
                       stopping=self.stopping)
            self.gate.started(int(settings.peering.priority))

        @kopf.on.login(registry=reg)
        def login(**_: Any) -> kopf.ConnectionInfo:
            token = conn.auth() or ""
            return kopf.ConnectionInfo(
                server=conn.server, ca_path=conn.ca_file, insecure=not conn.verify,
                token=token.removeprefix("Bearer ") or None,
                certificate_path=conn.cert_file, private_key_path=conn.key_file)

        # The shard filter (controller.sharding) on every kind we watch.
        labels = {sharding.SHARD_LABEL: ours.shard or kopf.ABSENT}
        sealedsecrets.register(reg, self.ctx, bitnami_compat=ours.bitnami_compat, labels=labels)
        receivers.register(reg, self.receivers, labels=labels)
        alerts.register(reg, self.alerts, labels=labels)
        rollouts.register(reg, self.rollouts)
        self.health.watch("rollout-scheduler", max_silence=SCHEDULER_SILENCE_S,
                          pulse=self.rollouts.scheduler.pulse)
        if ours.vault:
            sync = vaultsecrets.register(reg, kube=self.kube, controller_namespace=ours.namespace,
                                         events=self.ctx.events, gate=self.gate.open_for,
                                         metrics=self.metrics, rollouts=self.rollouts,
                                         labels=labels)
            self.health.watch("vault-scheduler", max_silence=SCHEDULER_SILENCE_S,
                              pulse=sync.scheduler.pulse)
        if ours.gitops:
            gitops = gitsyncs.register(reg, self.kube, settings=ours, events=self.ctx.events,
                                       now=utcnow, gate=self.gate, metrics=self.metrics,
                                       rollouts=self.rollouts, labels=labels)
            self.health.watch("gitops-scheduler", max_silence=SCHEDULER_SILENCE_S,
                              pulse=gitops.scheduler.pulse)
        return reg

    def run(self) -> None:
        self.prepare()
        priority = self.settings.priority or random.SystemRandom().randint(1, 2**31 - 1)
        logger.info("controller starting (namespace %s, priority %d)", self.settings.namespace,
                    priority)
        loop = asyncio.new_event_loop()
        ended = "returned"
        try:
            loop.run_until_complete(self._operate(priority))
        except asyncio.CancelledError:
            ended = "was cancelled"
        except Exception as exc:  # the type only: kopf's messages may quote API responses
            ended = f"failed ({type(exc).__name__})"
        finally:
            loop.close()
        if not self.stopping.is_set():
            self.health.fail("kopf", f"the operator {ended}")
            self.watchdog.terminate(self.health.check().fatal)  # exits the process
        self.stop_flag.set()
        if self.http is not None:
            self.http.shutdown()

    async def _operate(self, priority: int) -> None:
        """kopf's `operator()` (spawn + run its root tasks), with a heartbeat while all run."""
        ignored = set(asyncio.all_tasks())
        roots = await kopf.spawn_tasks(
            registry=self.registry(), standalone=False, priority=priority,
            peering_name=self.settings.peering_name, clusterwide=self.settings.clusterwide,
            namespaces=list(self.settings.watch_namespaces), stop_flag=self.stop_flag)
        for task in roots:
            task.add_done_callback(self._root_task_done)
        beat = asyncio.create_task(self._beat_kopf(roots), name="sealops kopf heartbeat")
        try:
            await kopf.run_tasks(roots, ignored=ignored | {beat})
        finally:
            beat.cancel()

    async def _beat_kopf(self, roots: Collection[asyncio.Task[Any]]) -> None:
        while all(not task.done() for task in roots):
            self.health.beat("kopf")
            await asyncio.sleep(KOPF_BEAT_S)

    def _root_task_done(self, task: asyncio.Task[Any]) -> None:
        if self.stopping.is_set() or self.health.check().dead:
            return  # the first root task to end is the one that tells why
        if task.get_name() == KOPF_STOP_TASK or self.stop_flag.is_set():
            self.stopping.set()
            return
        why = "was cancelled" if task.cancelled() else (
            f"failed ({type(task.exception()).__name__})" if task.exception() else "ended")
        logger.error("kopf's %r task %s; the operator is stopping", task.get_name(), why)
        self.health.fail("kopf", f"kopf's {task.get_name()!r} task {why}")


class UntilStopping:
    """kopf's API retry delays, cut off once a stop was asked for.

    kopf retries a failed request through `networking.error_backoffs` (1+1+2+3+5+8+13+21 s).
    On SIGTERM it still says goodbye to the peering with a PATCH; with the API server gone,
    that PATCH alone kept the process alive for ~55 s of retries, past a Pod's grace period.
    kopf iterates the delays afresh per request, so this iterable ends as soon as `stopping`
    is set: every request then gets one attempt, and the process exits in seconds.
    """

    def __init__(self, delays: Iterable[float], *, stopping: threading.Event) -> None:
        self.delays = tuple(delays)
        self.stopping = stopping

    def __iter__(self) -> Iterator[float]:
        for delay in self.delays:
            if self.stopping.is_set():
                return
            yield delay


def _configure(settings: kopf.OperatorSettings, *, workers: int, peering_name: str,
               stopping: threading.Event | None = None) -> None:
    settings.peering.mandatory = True
    settings.peering.name = peering_name
    # A replica killed without a goodbye blocks a lower-priority successor until its entry
    # expires; 30 s (kopf: 60 s) halves that failover for one keep-alive PATCH every ~25 s.
    settings.peering.lifetime = 30
    # kopf's own Events copy exception text; ours are built from names and reasons only.
    settings.posting.enabled = False
    settings.execution.max_workers = workers
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 30
    if stopping is not None:
        backoffs = settings.networking.error_backoffs
        delays = backoffs if isinstance(backoffs, Iterable) else (backoffs,)
        settings.networking.error_backoffs = UntilStopping(delays, stopping=stopping)
