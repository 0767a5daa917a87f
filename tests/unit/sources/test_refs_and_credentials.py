"""Refs, credentials and the hardened git environment, without running git."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from controller.sources import credentials, errors, gitcli
from controller.sources.git import Ref

SHA1 = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "ref",
    [Ref(branch="main"), Ref(branch="release/1.x"), Ref(tag="v1.2.3"), Ref(commit=SHA1),
     Ref(branch="main", commit=SHA1), Ref(commit="a" * 64)],
)
def test_valid_refs_are_accepted(ref: Ref) -> None:
    assert str(ref)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"branch": "main", "tag": "v1"},
        {"branch": "-main"},
        {"branch": "--upload-pack=evil"},
        {"branch": "a..b"},
        {"branch": "a b"},
        {"branch": "a:b"},
        {"branch": "a\x00b"},
        {"branch": "refs/heads/main"},
        {"branch": "x.lock"},
        {"branch": "a/.hidden"},
        {"branch": "@"},
        {"branch": "a@{1}"},
        {"tag": "v1~1"},
        {"tag": "v1^{}"},
        {"commit": "abc123"},
        {"commit": "g" * 40},
        {"commit": SHA1 + " "},
    ],
)
def test_invalid_refs_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(errors.SourceRefusedError, match="ref"):
        Ref(**kwargs)


def test_commit_refs_are_normalised_to_lower_case() -> None:
    assert Ref(commit=SHA1.upper()).commit == SHA1


def test_credentials_repr_names_fields_but_never_values() -> None:
    creds = credentials.Credentials(username="alice", password="hunter2-canary",
                                    ssh_private_key=b"KEY-canary")
    shown = repr(creds) + str(creds)
    assert "hunter2" not in shown and "KEY-canary" not in shown and "alice" not in shown
    assert "password" in shown


def test_a_token_alone_gets_a_default_username() -> None:
    creds = credentials.Credentials.from_secret_data({"token": b"tkn"})
    assert creds.username == credentials.DEFAULT_TOKEN_USERNAME
    assert creds.secret_values() == ("tkn",)


def test_credentials_with_line_breaks_are_refused_without_echoing_them() -> None:
    with pytest.raises(errors.SourceRefusedError) as caught:
        credentials.Credentials(username="a", password="x\nprotocol=evil")
    assert "evil" not in str(caught.value)


def test_non_utf8_credentials_are_refused_naming_the_key() -> None:
    with pytest.raises(errors.SourceRefusedError, match="'password'"):
        credentials.Credentials.from_secret_data({"password": b"\xff\xfe"})


def test_materialize_keeps_the_password_out_of_files_and_removes_everything() -> None:
    creds = credentials.Credentials(username="alice", password="hunter2-canary",
                                    ssh_private_key=b"-----KEY-----", ssh_known_hosts=b"h k\n")
    with credentials.materialize(creds, url="https://git.example.com/app.git") as files:
        home = files.home
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        askpass = Path(files.env["GIT_ASKPASS"])
        assert stat.S_IMODE(askpass.stat().st_mode) == 0o700
        assert stat.S_IMODE((home / "identity").stat().st_mode) == 0o600
        assert (home / "identity").read_bytes() == b"-----KEY-----\n"
        for path in home.iterdir():
            assert b"hunter2-canary" not in path.read_bytes()
        assert files.env[credentials.PASSWORD_ENV] == "hunter2-canary"
        assert "hunter2" not in files.env["GIT_SSH_COMMAND"]
        assert "StrictHostKeyChecking=yes" in files.env["GIT_SSH_COMMAND"]
    assert not home.exists()


def test_materialize_removes_the_directory_even_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), credentials.materialize(
            None, url="https://git.example.com/app.git") as files:
        home = files.home
        raise RuntimeError("boom")
    assert not home.exists()


def test_ssh_command_quotes_paths_and_refuses_unknown_hosts_by_default() -> None:
    command = credentials.ssh_command(identity=Path("/tmp/a dir/id"), known_hosts=None,
                                      connect_timeout=5)
    assert "'-i' '/tmp/a dir/id'" in command or "-i '/tmp/a dir/id'" in command
    assert "UserKnownHostsFile=/dev/null" in command
    assert "StrictHostKeyChecking=yes" in command and "BatchMode=yes" in command


def test_hardening_allows_file_protocol_only_for_local_sources() -> None:
    assert "protocol.file.allow=never" in gitcli.hardening_args(allow_local=False,
                                                                transport="file")
    assert "protocol.file.allow=always" in gitcli.hardening_args(allow_local=True,
                                                                 transport="file")


def test_hardening_allows_only_the_sources_own_transport() -> None:
    https = gitcli.hardening_args(allow_local=True, transport="https")
    assert "protocol.https.allow=always" in https
    for other in ("http", "ssh", "file"):
        assert f"protocol.{other}.allow=never" in https
    assert "protocol.ssh.allow=always" in gitcli.hardening_args(allow_local=False,
                                                                transport="ssh")
    for flag in ("core.hooksPath=/dev/null", "submodule.recurse=false", "protocol.allow=never",
                 "filter.lfs.smudge=", "filter.lfs.process=", "credential.helper="):
        assert flag in https


@pytest.mark.parametrize(
    ("url", "transport"),
    [("https://h/r", "https"), ("HTTP://127.0.0.1/r", "http"), ("ssh://git@h/r", "ssh"),
     ("git@h:r", "ssh"), ("file:///srv/r", "file")],
)
def test_transport_of_accepted_urls(url: str, transport: str) -> None:
    from controller.sources import urls

    assert urls.transport_of(url) == transport


def test_git_errors_keep_the_last_fatal_line_scrubbed() -> None:
    git = gitcli.Git(url="https://host/repo", allow_local=False, deadline=gitcli.Deadline(5),
                     env={"PATH": os.environ.get("PATH", os.defpath)}, secrets=("hunter2",))
    stderr = (b"remote: hunter2 is your password\n"
              b"fatal: Authentication failed for 'https://alice:hunter2@host/repo/'\n"
              b"hint: try again\n")
    message = git.explain(stderr)
    assert message == "fatal: Authentication failed for 'https://host/repo/'"


def test_deadline_must_be_positive() -> None:
    with pytest.raises(ValueError):
        gitcli.Deadline(0)


def test_a_commit_resolves_to_itself_without_any_network() -> None:
    from controller.sources import git

    assert git.resolve("https://unreachable.invalid/repo", Ref(commit=SHA1)) == SHA1


def test_the_public_surface_is_pinned() -> None:
    import controller.render
    import controller.sources

    assert sorted(controller.sources.__all__) == [
        "Checkout", "CheckoutLimits", "CheckoutTooLargeError", "Credentials", "FetchError",
        "GitSource", "Ref", "SourceRefusedError", "check_url", "fetch", "redact_url", "resolve",
    ]
    assert sorted(controller.render.__all__) == [
        "Limits", "MissingPathError", "PathEscapeError", "RenderError", "render", "secure_join",
    ]
