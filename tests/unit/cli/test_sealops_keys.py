"""`sealops keys backup|restore`: the pure parts (what is backed up, what a restore creates).

The commands themselves run against the real control plane in tests/integration/sealcluster.
"""

from __future__ import annotations

import base64
import copy

import click.testing
import pytest

from controller import cli as sealops_cli
from controller.commands import keys as keycommands
from controller.keys import stored
from sealer import errors
from sealer.crypto import keys
from sealer.keystore import backup as backups

from .conftest import KUBESEAL, KeyFiles


def kubeseal_key() -> keys.LegacyKey:
    if not (KUBESEAL / "pub2048.key").exists():
        pytest.skip("tests/vectors/kubeseal is missing")
    (key,) = keys.parse_private_pem((KUBESEAL / "pub2048.key").read_bytes(),
                                    certificate=(KUBESEAL / "pub2048.crt").read_bytes())
    assert isinstance(key, keys.LegacyKey)
    return key


def test_backup_pem_holds_every_generation_oldest_first_and_round_trips(
    key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    old, new = key_files.generation, new_key_files.generation
    secrets = [stored.to_secret(new, namespace="k"), stored.to_secret(old, namespace="k"),
               stored.to_secret(old, namespace="k")]
    pem, key_ids = keycommands.backup_pem(secrets)
    assert key_ids == [old.key_id_hex, new.key_id_hex]
    blob = backups.encrypt_backup(pem, passphrase=b"pw", ops=backups.MIN_OPS,
                                  mem=backups.MIN_MEM)
    restored = keys.parse_private_pem(backups.decrypt_backup(blob, passphrase=b"pw"))
    assert [k.key_id_hex for k in restored] == key_ids


def test_only_the_controllers_own_key_records_enter_a_backup(
    key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    real = stored.to_secret(key_files.generation, namespace="k")
    planted = stored.to_secret(new_key_files.generation, namespace="k")  # labelled like a key,
    planted["metadata"]["ownerReferences"] = [  # but written for a SealedSecret
        {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret", "name": "x", "uid": "u"}]
    renamed = stored.to_secret(new_key_files.generation, namespace="k")
    renamed["metadata"]["name"] = "sealops-key-chosen-by-a-tenant"
    opaque = stored.to_secret(new_key_files.generation, namespace="k")
    opaque["type"] = "Opaque"
    kept, skipped = keycommands.records([real, planted, renamed, opaque])
    assert kept == [real]
    assert [name for name, _ in skipped] == [planted["metadata"]["name"],
                                             "sealops-key-chosen-by-a-tenant",
                                             opaque["metadata"]["name"]]
    assert all(reason for _, reason in skipped)


def test_backup_pem_fails_on_a_broken_key_secret_naming_it(key_files: KeyFiles) -> None:
    broken = stored.to_secret(key_files.generation, namespace="k")
    broken["metadata"]["name"] = "sealops-key-broken"
    broken["data"]["v2.key"] = base64.b64encode(b"not a key").decode()
    with pytest.raises(errors.KeyMaterialError, match="k/sealops-key-broken"):
        keycommands.backup_pem([broken])
    with pytest.raises(errors.KeyMaterialError, match="no key Secrets"):
        keycommands.backup_pem([])


def test_restore_plan_creates_missing_keys_in_the_controllers_layout(
    key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    old, new = key_files.generation, new_key_files.generation
    present = stored.to_secret(old, namespace="keys")
    present["metadata"]["name"] = "renamed-by-someone"  # found by key id, not by name

    plan = keycommands.restore_plan([old, new, new], existing=[present], namespace="keys")

    assert plan.present == [old.key_id_hex, new.key_id_hex]
    assert plan.create == [stored.to_secret(new, namespace="keys")]
    assert stored.from_secret(plan.create[0]).key_id == new.key_id


def test_restore_plan_gives_kubeseal_keys_bitnamis_layout() -> None:
    legacy = kubeseal_key()
    plan = keycommands.restore_plan([legacy], existing=[], namespace="keys")
    (secret,) = plan.create
    assert secret["metadata"]["name"] == f"sealed-secrets-key-{legacy.key_id_hex}"
    assert secret["metadata"]["labels"] == {stored.BITNAMI_KEY_LABEL: "active"}
    assert secret["type"] == "kubernetes.io/tls"
    assert sorted(secret["data"]) == ["tls.crt", "tls.key"]
    reread = stored.from_secret(secret)
    assert isinstance(reread, keys.LegacyKey)
    assert reread.key_id == legacy.key_id and reread.created_at == legacy.created_at


def test_restore_plan_ignores_unreadable_existing_secrets(key_files: KeyFiles) -> None:
    junk = copy.deepcopy(stored.to_secret(key_files.generation, namespace="keys"))
    junk["data"] = {}
    plan = keycommands.restore_plan([key_files.generation], existing=[junk], namespace="keys")
    assert len(plan.create) == 1  # its name still makes the create a 409, never a replace


def test_sealops_lists_the_keys_commands_with_examples() -> None:
    runner = click.testing.CliRunner()
    result = runner.invoke(sealops_cli.cli, ["keys", "--help"])
    assert result.exit_code == 0
    assert "backup" in result.output and "restore" in result.output
    assert "Examples:" in result.output
    for command in ("backup", "restore"):
        help_text = runner.invoke(sealops_cli.cli, ["keys", command, "--help"]).output
        assert "--passphrase-file" in help_text and "--namespace" in help_text
        assert "--passphrase " not in help_text  # never from argv
    controller_help = runner.invoke(sealops_cli.cli, ["controller", "--help"]).output
    assert "--rate-limit" in controller_help
