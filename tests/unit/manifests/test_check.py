"""check and rewrite: findings with file:line, envelope sanity, and in-place document rewrites."""

from __future__ import annotations

import base64
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from sealer import errors
from sealer.crypto import keys, scope
from sealer.manifests import check, rewrite, safeyaml, seal, secrets

CANARY = "canary-7c1e55d0"

PLAIN = f"""\
# a comment that stays
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
stringData:
  password: {CANARY}
data:
  user: YWRtaW4=
"""


def findings_for(text: str, source: str = "f.yaml") -> list[check.Finding]:
    return check.check_data(text.encode(), source=source)


def test_a_plaintext_secret_gives_one_finding_per_item_with_its_line() -> None:
    found = findings_for(PLAIN)
    assert [str(f) for f in found] == [
        "f.yaml:10: Secret prod/db item 'user': plaintext Secret value; seal it with "
        "`seal secret` (or `seal check --fix --cert CERT`)",
        "f.yaml:8: Secret prod/db item 'password': plaintext Secret value; seal it with "
        "`seal secret` (or `seal check --fix --cert CERT`)",
    ]
    assert all(CANARY not in str(f) for f in found)


def test_secrets_inside_a_list_are_found() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n- kind: Secret\n"
        "  metadata: {name: x}\n  data:\n    k: YQ==\n"
    )
    (finding,) = findings_for(text)
    assert (finding.line, finding.object, finding.item) == (8, "Secret x", "k")


def test_a_secret_without_data_and_other_kinds_are_fine() -> None:
    assert (
        findings_for(
            "kind: Secret\nmetadata: {name: a}\ntype: Opaque\n---\nkind: ConfigMap\ndata: {a: b}\n"
        )
        == []
    )


def test_well_formed_sealed_values_pass(generation: keys.KeyGeneration) -> None:
    docs = [
        seal.seal_secret(
            secrets.parse_secret(safeyaml.load_one(PLAIN.encode(), source="x")),
            public=generation.public(),
            scope=None,
            kind=kind,
        )
        for kind in ("sealops", "bitnami")
    ]
    assert findings_for(safeyaml.dump(docs)) == []


def v2_blob(suite: int = 2, *, length: int = 12 + 1120 + 16) -> str:
    raw = b"SO\x02" + bytes([suite]) + b"k" * 8
    return base64.b64encode(raw + b"\x00" * (length - len(raw))).decode()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not base64!", "not valid base64"),
        ("YWJj\nZA==", "not valid base64"),
        ("YR==", "not canonical base64"),
        ("", "truncated"),
        (base64.b64encode(b"\x01\x00" + b"x" * 100).decode(), "truncated"),
        (base64.b64encode(b"\xff\xff" + b"x" * 100).decode(), "implausible v1 length prefix"),
        (base64.b64encode(b"\x00\x01" + b"x" * 100).decode(), "implausible v1 length prefix"),
        (base64.b64encode(b"SO\x03\x02" + b"x" * 2000).decode(), "unknown envelope version"),
        (v2_blob(suite=9), "unknown suite"),
        (v2_blob(length=100), "truncated"),
        (v2_blob(suite=1, length=12 + 32 + 15), "truncated"),
        (5, "not a string"),
    ],
)
def test_malformed_sealed_values_are_findings(value: Any, problem: str) -> None:
    assert problem in (check.envelope_problem(value) or "")


def test_plausible_envelopes_have_no_problem() -> None:
    assert check.envelope_problem(v2_blob()) is None
    assert check.envelope_problem(v2_blob(suite=1, length=12 + 32 + 16)) is None
    v1 = base64.b64encode(b"\x02\x00" + b"x" * (512 + 16)).decode()
    assert check.envelope_problem(v1) is None


def test_a_malformed_sealed_value_is_reported_at_its_line() -> None:
    text = (
        "apiVersion: sealops.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: s}\n"
        "spec:\n  encryptedData:\n    ok: " + v2_blob() + "\n    bad: '!!'\n"
    )
    (finding,) = findings_for(text)
    assert str(finding) == "f.yaml:7: SealedSecret s item 'bad': sealed value is not valid base64"


def test_an_unparsable_file_is_a_finding_whatever_it_mentions() -> None:
    (finding,) = findings_for(f"kind: ConfigMap\nx: [{CANARY}\n")
    assert finding.message.startswith("cannot check: ")
    assert finding.line >= 2
    assert CANARY not in str(finding)
    assert str(finding).startswith("f.yaml:")


def test_an_escaped_kind_with_an_anchor_is_still_a_plaintext_secret() -> None:
    # issue 10 item 9: the old text pre-filter missed `Secr\x65t`, and the anchor made the
    # strict reader give up, so the file passed.
    text = 'apiVersion: v1\nkind: "Secr\\x65t"\nmetadata: &m {name: db}\n'
    text += f"stringData:\n  password: {CANARY}\n"
    (finding,) = findings_for(text)
    assert (finding.object, finding.item, finding.line) == ("Secret db", "password", 5)


def test_aliases_and_merge_keys_are_resolved_as_kubectl_resolves_them() -> None:
    text = (
        "base: &k Secret\n---\nkind: Secret\nmetadata: {name: a}\n"
        "data:\n  <<: &common {user: YQ==}\n  pass: YQ==\n---\n"
        "kind: List\nitems:\n- &s {kind: Secret, metadata: {name: b}, data: {k: YQ==}}\n- *s\n"
    )
    found = findings_for(text)
    assert sorted((f.object, f.item) for f in found) == [
        ("Secret a", "pass"),
        ("Secret a", "user"),
        ("Secret b", "k"),
        ("Secret b", "k"),
    ]


def test_an_alias_to_another_documents_anchor_makes_the_file_a_finding() -> None:
    # anchors are per document (as for kubectl): the file cannot be read, so it fails
    text = "kind: &k Secret\nmetadata: {name: a}\ndata: {k: YQ==}\n---\nx: *k\n"
    (finding,) = findings_for(text)
    assert "undefined anchor" in finding.message and finding.line == 5


def test_an_alias_bomb_is_a_finding_not_an_expansion() -> None:
    pairs = zip("abcdefgh", "bcdefghi", strict=True)
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in pairs
    )
    (finding,) = findings_for("kind: Secret\n" + bomb)
    assert "once aliases are expanded" in finding.message


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                   "utf-32-le", "utf-32-be"])
def test_text_with_a_byte_order_mark_is_decoded_and_checked(codec: str) -> None:
    data = PLAIN.encode(codec)
    if codec.endswith(("-le", "-be")):
        data = "\ufeff".encode(codec) + data
    found = check.check_data(data, source="f.yaml")
    assert sorted(f.item or "" for f in found) == ["password", "user"]


def test_utf16_without_a_byte_order_mark_is_a_finding() -> None:
    (finding,) = check.check_data(PLAIN.encode("utf-16-le"), source="f.yaml")
    assert finding.message.startswith("cannot check: NUL byte found")


def test_documents_that_are_not_objects_are_no_finding() -> None:
    assert findings_for("- a\n- b\n---\njust text\n") == []


def test_hostile_object_names_are_printed_escaped() -> None:
    (finding,) = findings_for('kind: Secret\nmetadata: {name: "a\\u202eb"}\ndata: {k: YQ==}\n')
    assert "\u202e" not in str(finding)


# --- files and directories ------------------------------------------------------------------------


def test_directories_are_walked_for_yaml_and_json_skipping_hidden_ones(tmp_path: Path) -> None:
    (tmp_path / "deploy" / "sub").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "deploy" / "a.yaml").write_text(PLAIN)
    (tmp_path / "deploy" / "sub" / "b.json").write_text(
        '{"kind": "Secret", "metadata": {"name": "b"}, "data": {"k": "YQ=="}}'
    )
    (tmp_path / "deploy" / "c.txt").write_text(PLAIN)
    (tmp_path / ".git" / "d.yaml").write_text(PLAIN)
    found = check.check_paths([tmp_path])
    assert sorted({Path(f.file).relative_to(tmp_path).as_posix() for f in found}) == [
        "deploy/a.yaml",
        "deploy/sub/b.json",
    ]


def test_a_file_named_directly_is_checked_whatever_its_suffix(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(PLAIN)
    assert len(check.check_paths([path])) == 2


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError):
        check.check_paths([tmp_path / "nope"])


def test_an_oversized_file_is_a_finding_whatever_its_head_says(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("kind: ConfigMap\n" + "# pad\n" * 100)
    (finding,) = check.check_paths([path], max_bytes=50)
    assert "exceed the limit of 50 bytes" in finding.message


def test_a_secret_after_the_first_four_mib_is_not_missed(tmp_path: Path) -> None:
    # issue 10 item 9: a 100 MB file whose Secret came after the first 4 MiB passed
    path = tmp_path / "big.yaml"
    with path.open("w") as out:
        out.write("kind: ConfigMap\ndata:\n")
        out.write("  pad: " + "x" * (safeyaml.MAX_BYTES + 16) + "\n---\n")
        out.write(PLAIN)
    (finding,) = check.check_paths([path])
    assert finding.message.startswith("cannot check: ")
    assert f"limit of {safeyaml.MAX_BYTES} bytes" in finding.message


def test_special_files_are_skipped_without_being_opened(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(PLAIN)
    os.mkfifo(tmp_path / "fifo.yaml")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.yaml"))
        report = check.scan([tmp_path])
    assert [Path(f.file).name for f in report.findings] == ["a.yaml", "a.yaml"]
    assert sorted(str(s) for s in report.skipped) == [
        f"{tmp_path / 'fifo.yaml'}: skipped: a FIFO, not a regular file",
        f"{tmp_path / 'sock.yaml'}: skipped: a socket, not a regular file",
    ]


def test_a_fifo_named_directly_is_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f.yaml")
    report = check.scan([tmp_path / "f.yaml"])
    assert report.findings == [] and [s.why for s in report.skipped] == [
        "a FIFO, not a regular file"
    ]


def test_a_device_is_skipped(tmp_path: Path) -> None:
    report = check.scan(["/dev/zero"])
    assert [s.why for s in report.skipped] == ["a character device, not a regular file"]


def test_suffixes_match_in_any_letter_case_and_hidden_files_are_checked(tmp_path: Path) -> None:
    (tmp_path / "A.YAML").write_text(PLAIN)
    (tmp_path / ".b.Yml").write_text(PLAIN)
    found = check.check_paths([tmp_path])
    assert sorted({Path(f.file).name for f in found}) == [".b.Yml", "A.YAML"]


def test_a_symlink_below_a_directory_is_reported_not_followed(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "real.txt").write_text(PLAIN)
    (tmp_path / "d" / "link.yaml").symlink_to(tmp_path / "real.txt")
    report = check.scan([tmp_path / "d"])
    assert report.findings == []
    assert [s.why for s in report.skipped] == ["a symbolic link (not followed below a directory)"]


def test_a_file_that_cannot_be_read_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (finding,) = check.check_paths([tmp_path / "loop.yaml"])
    assert finding.message.startswith("cannot check: ")


# --- rewrite --------------------------------------------------------------------------------------


def sealing(generation: keys.KeyGeneration) -> rewrite.Transform:
    return rewrite.sealing_transform(
        lambda s: seal.seal_secret(s, public=generation.public(), scope=None)
    )


def test_rewrite_replaces_only_the_offending_document(generation: keys.KeyGeneration) -> None:
    text = (
        "# top\napiVersion: v1\nkind: ConfigMap  # keep me\nmetadata: {name: c}\n---\n"
        + PLAIN
        + "# trailing comment\n\n---\n# c2\nkind: Other\n"
    )
    new_text, count = rewrite.rewrite_documents(
        text.encode(), source="f.yaml", transform=sealing(generation)
    ) or ("", 0)
    assert count == 1
    assert new_text.startswith("# top\napiVersion: v1\nkind: ConfigMap  # keep me\n")
    assert "# a comment that stays\napiVersion: sealops.dev/v1alpha1\n" in new_text
    assert new_text.endswith("# trailing comment\n\n---\n# c2\nkind: Other\n")
    assert CANARY not in new_text
    assert check.check_data(new_text.encode(), source="f.yaml") == []
    docs = safeyaml.load_documents(new_text.encode(), source="f.yaml")
    assert [d["kind"] for d in docs] == ["ConfigMap", "SealedSecret", "Other"]


def test_rewrite_seals_secrets_inside_lists(generation: keys.KeyGeneration) -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n- apiVersion: v1\n"
        "  kind: Secret\n  metadata: {name: x, namespace: y}\n  data: {k: YQ==}\n"
    )
    new_text, count = rewrite.rewrite_documents(
        text.encode(), source="f", transform=sealing(generation)
    ) or ("", 0)
    (doc,) = safeyaml.load_documents(new_text.encode(), source="f")
    assert count == 1
    assert [item["kind"] for item in doc["items"]] == ["ConfigMap", "SealedSecret"]


def test_rewrite_keeps_a_json_file_json(generation: keys.KeyGeneration) -> None:
    text = (
        '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "namespace": "y"}, '
        '"data": {"k": "YQ=="}}'
    )
    new_text, _count = rewrite.rewrite_documents(
        text.encode(), source="f.json", transform=sealing(generation)
    ) or ("", 0)
    assert new_text.startswith("{\n")
    assert safeyaml.load_one(new_text.encode(), source="f")["kind"] == "SealedSecret"


def test_rewrite_returns_none_when_nothing_changes(generation: keys.KeyGeneration) -> None:
    assert (
        rewrite.rewrite_documents(b"kind: ConfigMap\n", source="f", transform=sealing(generation))
        is None
    )


def test_rewrite_takes_the_scope_from_the_secret_annotations(
    generation: keys.KeyGeneration,
) -> None:
    text = PLAIN.replace(
        "  namespace: prod\n",
        f"  namespace: prod\n  annotations:\n    {secrets.NAMESPACE_WIDE_ANNOTATION}: 'true'\n",
    )
    new_text, _ = rewrite.rewrite_documents(
        text.encode(), source="f", transform=sealing(generation)
    ) or ("", 0)
    doc = safeyaml.load_one(new_text.encode(), source="f")
    assert secrets.parse_sealed_secret(doc).annotated_scope is scope.Scope.NAMESPACE_WIDE


# --- templated data (issue 13): a literal in template.data is plaintext in Git -----------------

TEMPLATED = f"""\
apiVersion: sealops.dev/v1alpha1
kind: SealedSecret
metadata: {{name: db, namespace: prod}}
spec:
  encryptedData: {{password: AgA=, user: AgA=}}
  template:
    data:
      dsn: "postgres://{{{{ user }}}}:{{{{ password }}}}@db/shop"
      literal: {CANARY}
      unknown: "{{{{ other }}}}"
      escape: "{{{{ password.__class__ }}}}"
      removed: null
---
apiVersion: sealops.dev/v1alpha1
kind: VaultSecret
metadata: {{name: v, namespace: prod}}
spec:
  data: [{{secretKey: password, remoteRef: {{path: db}}}}]
  target:
    template:
      data: {{dsn: "{{{{ password }}}}", copy: {CANARY}}}
"""


def test_template_data_must_read_a_sealed_item_and_a_literal_is_a_finding() -> None:
    found = [f for f in findings_for(TEMPLATED) if "envelope" not in f.message
             and "truncated" not in f.message]
    assert [(f.line, f.object, f.item) for f in found] == [
        (11, "SealedSecret prod/db", "escape"), (9, "SealedSecret prod/db", "literal"),
        (10, "SealedSecret prod/db", "unknown"), (21, "VaultSecret prod/v", "copy")]
    assert "plaintext in Git" in found[1].message
    assert "not one of its sealed items" in found[2].message
    assert "attribute access" in found[0].message
    assert all(CANARY not in str(f) for f in found)


def test_bitnami_template_data_is_checked_in_the_go_forms() -> None:
    text = TEMPLATED.partition("---")[0].replace("sealops.dev/v1alpha1", "bitnami.com/v1alpha1")
    text = text.replace('"postgres://{{ user }}:{{ password }}@db/shop"',
                        """'postgres://{{ index . "user" }}:{{ .password }}@db/shop'""")
    found = {f.item: f.message for f in findings_for(text) if f.item in (
        "dsn", "literal", "unknown", "escape")}
    assert set(found) == {"literal", "unknown", "escape"}
    assert "Go template action" in found["unknown"]


def _sealed_doc(api_version: str, value: str) -> str:
    return (f"apiVersion: {api_version}\nkind: SealedSecret\nmetadata: {{name: db, namespace: "
            f"prod}}\nspec:\n  encryptedData:\n    password: {json.dumps(value)}\n")


def test_bitnami_values_are_checked_by_the_controllers_go_std_rules_ours_stay_canonical() -> None:
    v1 = base64.b64encode(b"\x02\x00" + b"x" * (512 + 16)).decode()
    wrapped = "\n".join(v1[i:i + 76] for i in range(0, len(v1), 76))  # as Go's encoder wraps
    sloppy_bits = v1[:-2] + "z="  # non-zero trailing bits: Go's StdEncoding still decodes it
    for value in (wrapped, sloppy_bits):
        assert findings_for(_sealed_doc("bitnami.com/v1alpha1", value)) == []
        found = findings_for(_sealed_doc("sealops.dev/v1alpha1", value))
        assert [f.item for f in found] == ["password"], value
    assert "not valid base64" in str(findings_for(_sealed_doc("bitnami.com/v1alpha1",
                                                              v1[:-4] + "!!!="))[0])
