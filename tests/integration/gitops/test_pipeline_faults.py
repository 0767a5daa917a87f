"""The sync pipeline against the real API server with hostile or faulty input, in-process
(HOSTILE-INPUTS K42-K45, Y19, Y26, Y27, F28, F30). No controller: nothing here is secret-
bearing, so no SealedSecret needs unsealing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from controller.apply import inventory, plan
from controller.gitops import pipeline
from controller.sources import git
from sealer.kube import client
from sealer.kube import errors as kerrors
from tests.gitserver import repos
from tests.integration.gitops.conftest import CM, DEPLOYMENTS, configmap, deployment, dump

CANARY = "canary-y27-0c1d2e3f"


class Source:
    """A real repository fetched over file:// into a cache, like the controller does."""

    def __init__(self, tmp: Path) -> None:
        (tmp / "served").mkdir()
        self.work = repos.WorkTree(tmp / "work", repos.create_bare(tmp / "served", "r.git"))
        self.cache = tmp / "cache"

    def push(self, files: dict[str, str], *, remove: tuple[str, ...] = (),
             links: dict[str, str] | None = None) -> None:
        for rel in remove:
            self.work.remove(rel)
        self.work.write(files)
        for link, target in (links or {}).items():
            self.work.symlink(link, target)
        self.work.commit()
        self.work.push()

    def fetch(self) -> git.Checkout:
        return git.fetch(f"file://{self.work.bare}", git.Ref(branch="main"),
                         cache_dir=self.cache, allow_local=True)


@pytest.fixture
def source(tmp_path: Path) -> Source:
    return Source(tmp_path)


def policy(namespace: str, **extra: Any) -> plan.SyncPolicy:
    fields: dict[str, Any] = {"allowed_namespaces": frozenset({namespace}),
                              "allow_cluster_scoped": False, **extra}
    return plan.SyncPolicy(sync_namespace=namespace, sync_name="app",
                           target_namespace=namespace, **fields)


def run(kube: Any, source: Source, namespace: str, *, previous: inventory.Inventory | None = None,
        checkpoint: Any = None, **extra: Any) -> pipeline.Outcome:
    extra.setdefault("timeout", 60)
    request = pipeline.Request(policy=policy(namespace, **extra.pop("policy", {})),
                               previous=previous or inventory.Inventory(), prune=True, **extra)
    return pipeline.run(source.fetch, request, kube=kube, checkpoint=checkpoint)


def names(kube: Any, namespace: str) -> set[str]:
    return {i["metadata"]["name"] for i in kube.list(CM, namespace=namespace)
            if i["metadata"]["name"] != "kube-root-ca.crt"}


def test_an_api_failure_after_k_applies_prunes_nothing_and_the_next_run_converges(
        kube: Any, namespace: str, source: Source) -> None:
    source.push({f"c{i}.yaml": dump(configmap(f"c{i}")) for i in range(6)})
    first = run(kube, source, namespace)
    assert first.ok and first.counts.created == 6
    source.push({"d.yaml": dump(deployment("web"))} | {
        f"n{i}.yaml": dump(configmap(f"n{i}")) for i in range(4)}, remove=("c5.yaml",))

    def api_down_after_two(writes: int) -> None:
        if writes >= 2:
            raise kerrors.ApiError(status=503, reason="ServiceUnavailable",
                                   what="injected fault")
    failed = run(kube, source, namespace, previous=first.inventory,
                 checkpoint=api_down_after_two)

    assert (failed.reason, failed.retryable) == ("ApplyFailed", True)
    assert "injected fault: 503 ServiceUnavailable" in failed.message
    assert kube.get(DEPLOYMENTS, "web", namespace=namespace) is None  # a later wave
    assert "c5" in names(kube, namespace)  # nothing pruned
    # Writes already in flight on other workers finish; each confirmed one is recorded.
    created = {a.entry.name for a in failed.applied if a.action == "created"}
    assert 2 <= len(created) <= 4
    assert created == names(kube, namespace) - {f"c{i}" for i in range(6)}
    # The inventory is the old one plus exactly the confirmed applies.
    assert failed.inventory.ids() == first.inventory.ids() | {
        f"{namespace}_{n}__ConfigMap" for n in created}

    converged = run(kube, source, namespace, previous=failed.inventory)
    assert converged.ok, converged.message
    assert names(kube, namespace) == {"c0", "c1", "c2", "c3", "c4", "n0", "n1", "n2", "n3"}
    assert kube.get(DEPLOYMENTS, "web", namespace=namespace) is not None
    assert converged.counts.pruned == 1
    assert converged.counts.created == 1 + (4 - len(created))
    again = run(kube, source, namespace, previous=converged.inventory)
    assert again.ok and again.counts.writes == 0 and again.counts.unchanged == 10


def test_an_object_owned_by_another_field_manager_is_a_clear_conflict(
        kube: Any, namespace: str, source: Source) -> None:
    kube.apply(CM, configmap("shared", {"k": "theirs"}) | {"metadata": {
        "name": "shared", "namespace": namespace}}, field_manager="someone-else")
    source.push({"shared.yaml": dump(configmap("shared", {"k": "ours"})),
                 "other.yaml": dump(configmap("other"))})
    outcome = run(kube, source, namespace)
    assert outcome.reason == "ApplyFailed" and not outcome.retryable
    assert outcome.message.startswith(f"apply failed: ConfigMap {namespace}/shared: conflict "
                                      "with another field manager")
    assert "someone-else" in outcome.message and ".data.k" in outcome.message
    assert kube.get(CM, "shared", namespace=namespace)["data"] == {"k": "theirs"}


def test_an_object_of_another_gitsync_is_never_taken_over(
        kube: Any, namespace: str, source: Source) -> None:
    theirs = configmap("x") | {"metadata": {"name": "x", "namespace": namespace,
                                             "labels": {plan.SYNC_LABEL: "other.sync"}}}
    kube.apply(CM, theirs, field_manager="sealops")
    source.push({"x.yaml": dump(configmap("x", {"k": "mine"}))})
    outcome = run(kube, source, namespace)
    assert outcome.reason == "ApplyFailed"
    assert "belongs to GitSync 'other.sync'" in outcome.message
    assert kube.get(CM, "x", namespace=namespace)["data"] == {"k": "x"}


def test_an_immutable_field_change_is_attributed_to_its_object(
        kube: Any, namespace: str, source: Source) -> None:
    source.push({"web.yaml": dump(deployment("web"))})
    assert run(kube, source, namespace).ok
    changed = deployment("web")
    changed["spec"]["selector"]["matchLabels"] = {"app": "other"}
    changed["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    source.push({"web.yaml": dump(changed)})
    outcome = run(kube, source, namespace)
    assert outcome.reason == "ApplyFailed"
    assert f"Deployment {namespace}/web: 422 Invalid" in outcome.message
    assert "spec.selector" in outcome.message


def test_a_missing_namespace_fails_naming_the_object(kube: Any, namespace: str,
                                                     source: Source) -> None:
    elsewhere = configmap("c") | {"metadata": {"name": "c", "namespace": "t-does-not-exist"}}
    source.push({"c.yaml": dump(elsewhere)})
    outcome = run(kube, source, namespace, policy={"allowed_namespaces": None})
    assert outcome.reason == "ApplyFailed"
    assert "ConfigMap t-does-not-exist/c: 404" in outcome.message


def test_a_secret_the_api_server_rejects_is_reported_without_its_values(
        kube: Any, namespace: str, source: Source) -> None:
    bad = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
           "data": {"x": CANARY + "!not-base64"}}
    source.push({"s.yaml": dump(bad)})
    outcome = run(kube, source, namespace, policy={"allow_plaintext_secrets": True})
    assert outcome.reason == "ApplyFailed"
    assert f"Secret {namespace}/s" in outcome.message
    assert CANARY not in repr(outcome) and CANARY not in outcome.message


@pytest.mark.parametrize(("files", "reason", "expected"), [
    ({"x.yaml": "", "y.yaml": "# nothing\n"}, "PolicyViolation", "no objects"),
    ({"x.yaml": "a: [unclosed\n", "y.yaml": "{{{\n"}, "RenderFailed", "x.yaml"),
    ({"x.yaml": "apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n"}, "RenderFailed",
     "kind Widget of v1 is not served"),
    ({"x.yaml": "apiVersion: v1\nkind: List\nitems: []\nmetadata: {name: l}\n"}, "RenderFailed",
     "kind List is not supported"),
    ({"x.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                "metadata: {name: escalate}\n"}, "PolicyViolation", "cluster-scoped"),
    ({"x.yaml": "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\n"}, "RenderFailed",
     "x.yaml"),
])
def test_bad_trees_fail_the_whole_sync_and_prune_nothing(
        kube: Any, namespace: str, source: Source, files: dict[str, str], reason: str,
        expected: str) -> None:
    source.push({"keep.yaml": dump(configmap("keep"))})
    good = run(kube, source, namespace)
    source.push(files, remove=("keep.yaml",))
    outcome = run(kube, source, namespace, previous=good.inventory)
    assert outcome.reason == reason, outcome.message
    assert expected in outcome.message
    assert outcome.inventory == good.inventory
    assert names(kube, namespace) == {"keep"}


def test_an_escaping_symlink_or_path_fails_the_render_without_reading_it(
        kube: Any, namespace: str, source: Source) -> None:
    source.push({"app/a.yaml": dump(configmap("a"))},
                links={"app/token.yaml": "/var/run/secrets/kubernetes.io/serviceaccount/token"})
    outcome = pipeline.run(source.fetch, pipeline.Request(policy=policy(namespace), path="app"),
                           kube=kube)
    assert (outcome.reason, outcome.message) == (
        "RenderFailed", "render failed: out of bounds symlink: app/token.yaml")
    outcome = pipeline.run(source.fetch, pipeline.Request(policy=policy(namespace),
                                                          path="../../etc"), kube=kube)
    assert outcome.reason == "RenderFailed" and "contains '..'" in outcome.message
    assert names(kube, namespace) == set()


def test_a_dry_run_writes_nothing(kube: Any, namespace: str, source: Source) -> None:
    source.push({"a.yaml": dump(configmap("a"), deployment("web"))})
    outcome = run(kube, source, namespace, dry_run=True)
    assert outcome.ok and outcome.counts.created == 2 and outcome.counts.writes == 0
    assert names(kube, namespace) == set()
    assert kube.get(DEPLOYMENTS, "web", namespace=namespace) is None
    assert outcome.inventory.ids() == {f"{namespace}_a__ConfigMap",
                                       f"{namespace}_web_apps_Deployment"}
    assert client.CONFIGMAPS.kind == "ConfigMap"


def test_a_sealed_secret_nobody_unseals_times_out_and_nothing_after_it_is_applied(
        kube: Any, namespace: str, source: Source, crds: None) -> None:
    sealed = {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
              "metadata": {"name": "db"}, "spec": {"encryptedData": {"password": "AAAA"}}}
    source.push({"s.yaml": dump(sealed), "web.yaml": dump(deployment("web", secret="db"))})
    started = time.monotonic()
    outcome = run(kube, source, namespace, timeout=3)
    assert time.monotonic() - started < 20
    assert outcome.reason == "SecretsFailed" and outcome.retryable
    assert outcome.message == (f"secrets failed: timed out waiting for SealedSecret {namespace}/"
                               "db: no Ready condition for generation 1 yet")
    assert kube.get(DEPLOYMENTS, "web", namespace=namespace) is None
    assert outcome.inventory.ids() == {f"{namespace}_db_sealops.dev_SealedSecret"}
