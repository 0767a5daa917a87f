"""URL policy, redaction and scrubbing (HOSTILE-INPUTS F32, F33)."""

from __future__ import annotations

import base64

import pytest

from controller.sources import errors, urls

ALLOWED = [
    "https://github.com/org/repo.git",
    "https://git.example.com:8443/org/repo",
    "ssh://git@github.com/org/repo.git",
    "ssh://git@[2001:db8::1]:2222/org/repo.git",
    "git@github.com:org/repo.git",
    "github.com:org/repo.git",
    "http://127.0.0.1:8080/repo.git",
    "http://127.9.9.9/repo.git",
    "http://localhost/repo.git",
    "http://[::1]:9418/repo.git",
]

REFUSED = [
    ("", "empty"),
    ("ext::sh -c touch% /tmp/pwned", "whitespace"),
    ("ext::ssh-evil", "remote-helper"),
    ("fd::17", "remote-helper"),
    ("-uhelp", "starts with '-'"),
    ("--upload-pack=touch /tmp/x", "whitespace"),
    ("--upload-pack=evil", "starts with '-'"),
    ("file:///srv/repo.git", "file:// sources are not allowed"),
    ("/srv/repo.git", "not a remote URL"),
    ("./repo", "not a remote URL"),
    ("ftp://example.com/repo", "scheme 'ftp'"),
    ("git://example.com/repo", "scheme 'git'"),
    ("http://example.com/repo.git", "only to loopback"),
    ("http://localhost.evil.com/repo.git", "only to loopback"),
    ("http://10.0.0.1/repo.git", "only to loopback"),
    ("https://user:hunter2@github.com/org/repo", "secretRef"),
    ("https://token@github.com/org/repo", "secretRef"),
    ("ssh://git:hunter2@github.com/org/repo", "secretRef"),
    ("https://github.com/org/repo?private_token=abc", "query"),
    ("https://github.com/org/repo#frag", "query"),
    ("https://github.com/org/repo\nother", "control"),
    ("https://exa mple.com/repo", "whitespace"),
    ("https:///repo", "host name"),
    ("https://exa%41mple.com/repo", "host name"),
    ("ssh://-oProxyCommand=evil/repo", "host name"),
    ("https://example.com:99999/repo", "well-formed"),
    ("https://" + "a" * 3000, "longer"),
]


@pytest.mark.parametrize("url", ALLOWED)
def test_check_url_accepts_https_ssh_scp_and_loopback_http(url: str) -> None:
    urls.check_url(url, allow_local=False)


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_check_url_refuses_with_a_reason(url: str, why: str) -> None:
    with pytest.raises(errors.SourceRefusedError, match="refused") as caught:
        urls.check_url(url, allow_local=False)
    assert why in str(caught.value)
    assert caught.value.reason == "SourceRefused"


def test_file_urls_are_accepted_only_when_local_sources_are_allowed() -> None:
    urls.check_url("file:///srv/repo.git", allow_local=True)
    with pytest.raises(errors.SourceRefusedError, match="must not name a host"):
        urls.check_url("file://evil.example.com/srv/repo.git", allow_local=True)
    with pytest.raises(errors.SourceRefusedError, match="not a remote URL"):
        urls.check_url("/srv/repo.git", allow_local=True)


def test_refusal_message_never_shows_the_credentials_it_refuses() -> None:
    with pytest.raises(errors.SourceRefusedError) as caught:
        urls.check_url("https://alice:hunter2@github.com/org/repo?token=s3cret", allow_local=False)
    text = str(caught.value)
    assert "hunter2" not in text and "alice" not in text and "s3cret" not in text
    assert "https://github.com/org/repo" in text


def test_check_url_rejects_non_strings_as_misuse() -> None:
    with pytest.raises(TypeError):
        urls.check_url(b"https://x/y", allow_local=False)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://user:pass@github.com/org/repo", "https://github.com/org/repo"),
        ("https://tok@github.com/org/repo?x=1#f", "https://github.com/org/repo"),
        ("https://host/repo?private_token=abc", "https://host/repo"),
        ("https://user:p/ss@host/repo", "https://host/repo"),
        ("https://user:p?ss@host/repo", "https://host/repo"),
        ("https://user:p@ss@host/repo", "https://host/repo"),
        ("git@github.com:org/repo.git", "github.com:org/repo.git"),
        ("user:pw@host:org/repo", "host:org/repo"),
        ("ssh://git@host:22/repo", "ssh://host:22/repo"),
        ("http://[::1", "http://[::1"),
        ("https://host/\x1b[31mred", "https://host/?[31mred"),
    ],
)
def test_redact_url_strips_userinfo_query_and_fragment(url: str, shown: str) -> None:
    assert urls.redact_url(url) == shown


def test_redact_url_truncates_long_urls() -> None:
    assert len(urls.redact_url("https://h/" + "x" * 5000)) == 200


def test_scrub_text_removes_secret_in_every_encoding_and_url_userinfo() -> None:
    secret = "p@ss w/rd"
    text = (
        f"fatal: unable to access 'https://alice:{secret}@host/repo?token=abc': "
        f"{secret} / p%40ss%20w%2Frd / {base64.b64encode(secret.encode()).decode()}"
    )
    scrubbed = urls.scrub_text(text, url="https://host/repo", secrets=[secret])
    assert "p@ss" not in scrubbed and "p%40ss" not in scrubbed
    assert base64.b64encode(secret.encode()).decode() not in scrubbed
    assert "alice" not in scrubbed and "token=abc" not in scrubbed


def test_scrub_text_replaces_unprintable_characters() -> None:
    assert urls.scrub_text("remote: \x1b[2Jhi\x07", url="") == "remote: ?[2Jhi?"
