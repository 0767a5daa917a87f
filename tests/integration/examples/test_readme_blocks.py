"""Every shell block of README.md and docs/*.md works as written, or says why it is not run.

A shell block (```sh, ```bash, ```shell) must be preceded by one marker comment:

    <!-- readme-test: run NAME ... -->     run by the scenario below that claims NAME
    <!-- readme-test: skip: REASON -->     not run, and REASON says why (and where it is tested)

Each run block is executed unchanged by `bash -euo pipefail` against the local control plane,
with the installed `seal`/`sealops` on PATH and a real controller; a scenario prepares only
what a reader would already have (objects, a Git clone, a passphrase in the CI's environment)
and sets the variables a block documents (`KEYS_NS`, `OLD_KEY_ID`, ...). A new block without a
marker, or a run block no scenario claims, fails `test_every_shell_block_is_marked`.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import secrets
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sealer.crypto import envelope
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    StartController,
    ready_condition,
    sealed_secret,
)
from tests.integration.examples.conftest import (
    BIN,
    DEMO_PRIVATE,
    EXAMPLES,
    ROOT,
    GitRemote,
    load_all,
    seal,
)

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(\s*)```(sh|bash|shell)\s*$")
MARKER = re.compile(r"^\s*<!-- readme-test: (?:run (?P<name>[a-z0-9-]+)[^>]*|"
                    r"skip: (?P<reason>.+?)) -->\s*$")
GITSYNCS = client.Resource("sealops.dev", "v1alpha1", "GitSync", "gitsyncs", True)

CLAIMED = {"daily-workflow", "completion", "status-commands", "upgrade-crds", "runbook-new",
           "runbook-reencrypt", "runbook-retire", "ci-backup", "troubleshooting",
           "migration-v2"}


@dataclasses.dataclass(frozen=True)
class Block:
    where: str  # file:line of the fence
    name: str | None  # the run name, None when skipped
    reason: str | None
    text: str


def blocks() -> list[Block]:
    """Every shell block in the docs, with its marker (name or reason; both None: unmarked)."""
    found: list[Block] = []
    for path in DOCS:
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            fence = FENCE.match(lines[i])
            if not fence:
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
            previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.match(previous)
            found.append(Block(
                where=f"{path.relative_to(ROOT)}:{i + 1}",
                name=marker.group("name") if marker else None,
                reason=marker.group("reason") if marker else None,
                text=textwrap.dedent("\n".join(lines[i + 1:end])) + "\n"))
            i = end + 1
    return found


def block(name: str) -> Block:
    (found,) = [b for b in blocks() if b.name == name]
    return found


def run(name: str, *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one marked block unchanged; fail with its output when it exits non-zero."""
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block(name).text], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def environment(kubeconfig: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(home),
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
            "GIT_AUTHOR_NAME": "Docs", "GIT_AUTHOR_EMAIL": "docs@example.invalid",
            "GIT_COMMITTER_NAME": "Docs", "GIT_COMMITTER_EMAIL": "docs@example.invalid",
            **extra}


def git_clone(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    for rel, text in files.items():
        (path / rel).write_text(text)
    if files:
        subprocess.run(["git", "-C", str(path), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(path), "-c", "user.name=t", "-c",
                        "user.email=t@example.invalid", "commit", "-qm", "init"], check=True)
    return path


def test_every_shell_block_is_marked_and_every_run_block_is_claimed() -> None:
    found = blocks()
    assert [b.where for b in found if b.name is None and b.reason is None] == []
    names = [b.name for b in found if b.name]
    assert len(names) == len(set(names)), names
    assert set(names) == CLAIMED
    assert all(len(b.reason or "") > 20 for b in found if b.name is None)


def test_the_daily_workflow_seals_with_the_clusters_cert_and_commits(
    namespace: str, kubeconfig: Path, start_controller: StartController, tmp_path: Path,
) -> None:
    ctl = start_controller(watch=namespace)
    work = git_clone(tmp_path / "repo", {})
    (work / "pw.txt").write_text("canary-readme-daily\n")
    # The block names no namespace for the keys: point `seal cert` at this controller's.
    env = environment(kubeconfig, tmp_path, SEAL_CERT_CONTROLLER_NAMESPACE=ctl.key_namespace)
    done = run("daily-workflow", cwd=work, env=env)
    sealed = yaml.safe_load((work / "db-sealed.yaml").read_text())
    assert (sealed["kind"], sealed["metadata"]["namespace"], sealed["metadata"]["name"]) == \
        ("SealedSecret", "shop", "db")
    assert list(sealed["spec"]["encryptedData"]) == ["password"]
    log = subprocess.run(["git", "-C", str(work), "log", "--format=%s"], check=True,
                         capture_output=True, text=True).stdout
    assert log.strip() == "shop: db credentials"
    assert "canary-readme-daily" not in done.stdout + done.stderr + (work / "db-sealed.yaml"
                                                                     ).read_text()


def test_shell_completion_loads_in_bash(kubeconfig: Path, tmp_path: Path) -> None:
    run("completion", cwd=tmp_path, env=environment(kubeconfig, tmp_path))


def test_the_status_commands_run_against_a_sealedsecret_and_a_gitsync(
    kube: Any, kubeconfig: Path, start_controller: StartController,
    fixed_namespace: Callable[[str], str], git_remote: GitRemote, tmp_path: Path,
) -> None:
    shop, dev = fixed_namespace("shop"), fixed_namespace("shop-dev")
    ctl = start_controller(watch=shop, args=("--watch-namespace", dev))
    kube.create(SEALOPS, sealed_secret(namespace=shop, name="db", public=ctl.public(),
                                       data={"password": b"canary-readme-status"}),
                namespace=shop)
    git_remote.work.write({"app.yaml": yaml.safe_dump({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"},
        "data": {"mode": "fast"}})})
    git_remote.work.commit()
    git_remote.work.push()
    kube.create(client.SECRETS, git_remote.credentials_secret(dev), namespace=dev)
    kube.create(GITSYNCS, {"apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
                           "metadata": {"name": "shop-dev", "namespace": dev},
                           "spec": {"url": git_remote.url, "interval": "1h",
                                    "secretRef": {"name": "git-credentials"}}}, namespace=dev)
    for res, ns, name in ((SEALOPS, shop, "db"), (GITSYNCS, dev, "shop-dev")):
        wait_for(lambda r=res, n=ns, m=name: ready_condition(kube.get(r, m, namespace=n)),
                 timeout=120, what=f"{name} Ready")

    done = run("status-commands", cwd=tmp_path, env=environment(kubeconfig, tmp_path))
    for line in ("✔ sealedsecret/db reconciled", "✔ gitsync/shop-dev reconciled",
                 "► gitsync/shop-dev suspended", "source revision main@sha1:"):
        assert line in done.stdout, done.stdout
    assert kube.get(GITSYNCS, "shop-dev", namespace=dev)["spec"]["suspend"] is False
    assert "canary-readme-status" not in done.stdout + done.stderr + ctl.log_text()


def test_the_upgrade_applies_the_crds_from_the_repository_root(
    kubeconfig: Path, tmp_path: Path,
) -> None:
    done = run("upgrade-crds", cwd=ROOT, env=environment(kubeconfig, tmp_path))
    assert done.stdout.rstrip().endswith("True")


def test_the_compromised_key_runbook_and_the_ci_backup_work_as_written(
    kube: Any, namespace: str, kubeconfig: Path, start_controller: StartController,
    tmp_path: Path,
) -> None:
    keys_ns = f"keys-{secrets.token_hex(3)}"
    ctl = start_controller(watch=namespace, key_namespace=keys_ns,
                           args=("--watch-namespace", keys_ns))
    old = ctl.public().key_id.hex()
    body = sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                         data={"password": b"canary-readme-runbook"})
    kube.create(SEALOPS, body, namespace=namespace)
    work = git_clone(tmp_path / "gitops", {"db.yaml": yaml.safe_dump(body)})
    env = environment(kubeconfig, tmp_path, KEYS_NS=keys_ns, SEAL_CONTROLLER_URL=ctl.url)

    done = run("runbook-new", cwd=work, env=env)
    new = re.search(r"created key generation ([0-9a-f]+)", done.stdout)
    assert new is not None and f"{old}" in done.stdout, done.stdout
    wait_for(lambda: ctl.public().key_id.hex() == new.group(1), timeout=120,
             what="the controller to seal with the new generation")

    before = (work / "db.yaml").read_text()
    run("runbook-reencrypt", cwd=work, env=env)
    after = yaml.safe_load((work / "db.yaml").read_text())
    assert (work / "db.yaml").read_text() != before
    assert list(after["spec"]["encryptedData"]) == ["password"]
    assert subprocess.run(["git", "-C", str(work), "status", "--porcelain"], check=True,
                          capture_output=True, text=True).stdout == ""

    done = run("runbook-retire", cwd=work, env={**env, "OLD_KEY_ID": old})
    rows = {line.split()[0]: line.split()[2] for line in done.stdout.splitlines()[2:]}
    assert rows == {old: "retired", new.group(1): "active"}, done.stdout

    passphrase = f"canary-readme-passphrase-{secrets.token_hex(8)}"
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    done = run("ci-backup", cwd=work, env={**env, "BACKUP_PASSPHRASE": passphrase,
                                           "RUNNER_TEMP": str(runner_temp)})
    backups = list(work.glob("cluster-keys-*.backup"))
    assert len(backups) == 1 and backups[0].stat().st_mode & 0o077 == 0
    assert list(runner_temp.iterdir()) == []
    assert f"skipped Secret {keys_ns}/sealops-key-{old}: its key label is not 'active'" in \
        done.stderr  # the retired generation is left out of the backup
    assert f"backed up 1 key(s) from namespace {keys_ns}" in done.stderr
    for text in (done.stdout, done.stderr, ctl.log_text()):
        assert passphrase not in text and "canary-readme-runbook" not in text


def test_the_troubleshooting_commands_run(kubeconfig: Path, crds: None,
                                          tmp_path: Path) -> None:
    done = run("troubleshooting", cwd=tmp_path, env=environment(kubeconfig, tmp_path))
    assert "error" not in done.stderr.lower()


def test_the_migration_moves_a_bitnami_file_to_sealops_v2_by_the_controller(
    kubeconfig: Path, namespace: str, demo_key_namespace: str,
    start_controller: StartController, tmp_path: Path,
) -> None:
    ctl = start_controller(watch=namespace, key_namespace=demo_key_namespace)
    before = EXAMPLES / "bitnami-migration/before/db.sealedsecret.yaml"
    work = git_clone(tmp_path / "repo", {"db.sealedsecret.yaml": before.read_text()})
    run("migration-v2", cwd=work,
        env=environment(kubeconfig, tmp_path, SEAL_CONTROLLER_URL=ctl.url))
    migrated = work / "db.sealedsecret.yaml"
    (doc,) = load_all(migrated)
    assert doc["apiVersion"] == "sealops.dev/v1alpha1"
    assert doc["spec"]["encryptedData"] != load_all(before)[0]["spec"]["encryptedData"]
    for value in doc["spec"]["encryptedData"].values():  # the v2 (HPKE) envelope now
        assert base64.b64decode(value)[:3] == envelope.MAGIC + bytes([envelope.VERSION_2])
    opened = [seal("unseal", path, "--key", DEMO_PRIVATE) for path in (migrated, before)]
    assert all(o.returncode == 0 for o in opened), [o.stderr for o in opened]
    assert yaml.safe_load(opened[0].stdout)["data"] == yaml.safe_load(opened[1].stdout)["data"]
