"""Redirects and host-bound credentials (issue 10 item 7): git never follows an HTTP redirect,
and the askpass helper answers only for the source URL's own scheme://host:port."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.sources import credentials, errors, git, urls
from tests.gitserver import server
from tests.integration.git.conftest import USERNAME, GitEnv

pytestmark = pytest.mark.integration

MAIN = git.Ref(branch="main")


@pytest.fixture
def collector(git_env: GitEnv) -> Iterator[server.GitHTTPServer]:
    """A second git server on another loopback port, asking for the same credentials and
    serving the same repositories: it records every request and the user it authenticated."""
    with server.GitHTTPServer(git_env.served, username=USERNAME,
                              password=git_env.password) as srv:
        yield srv


def _pushed(env: GitEnv) -> None:
    work = env.repo()
    work.write({"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"})
    work.commit()
    work.push()


@pytest.mark.parametrize("call", ["fetch", "resolve"])
def test_a_redirect_to_another_port_is_not_followed_and_receives_no_credentials(
    git_env: GitEnv, collector: server.GitHTTPServer, call: str
) -> None:
    _pushed(git_env)
    git_env.server.redirect = f"http://127.0.0.1:{collector.port}"
    with pytest.raises(errors.FetchError) as caught:
        if call == "fetch":
            git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
        else:
            git.resolve(git_env.url(), MAIN, creds=git_env.creds)
    message = str(caught.value)
    assert urls.redact_url(git_env.url()) in message
    assert "redirect" in message and "302" in message
    assert git_env.password not in message
    assert collector.requests == []
    assert all(r.user is None for r in git_env.server.requests)
    assert not list(git_env.cache.glob("rev-*"))


def test_a_redirect_on_the_same_host_is_not_followed_either(git_env: GitEnv) -> None:
    _pushed(git_env)
    git_env.server.redirect = f"http://127.0.0.1:{git_env.server.port}/elsewhere"
    with pytest.raises(errors.FetchError, match="redirect"):
        git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)


def test_credentials_still_reach_the_source_host_itself(git_env: GitEnv) -> None:
    _pushed(git_env)
    checkout = git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
    assert (checkout.root / "cm.yaml").is_file()
    assert {r.user for r in git_env.server.requests if r.status == 200} == {USERNAME}


def _ask(files: credentials.Materialized, prompt: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([files.env["GIT_ASKPASS"], prompt], env=dict(files.env),
                          capture_output=True, text=True, check=False)


def test_the_askpass_helper_answers_only_for_the_source_origin(tmp_path: Path) -> None:
    creds = credentials.Credentials(username=USERNAME, password="canary-askpass-pw")
    with credentials.materialize(creds, url="http://127.0.0.1:4000/app.git") as files:
        own_user = _ask(files, "Username for 'http://127.0.0.1:4000': ")
        own_pass = _ask(files, f"Password for 'http://{USERNAME}@127.0.0.1:4000': ")
        foreign = [
            "Username for 'http://127.0.0.1:4001': ",
            f"Password for 'http://{USERNAME}@127.0.0.1:4001': ",
            f"Password for 'https://{USERNAME}@127.0.0.1:4000': ",
            f"Password for 'http://{USERNAME}@localhost:4000': ",
            "Username for 'http://127.0.0.1:4000/app.git': ",
            "Password for 'http://evil@127.0.0.1:4000': ",
            "Password: ",
            "",
        ]
        refused = [_ask(files, prompt) for prompt in foreign]
    assert (own_user.returncode, own_user.stdout) == (0, f"{USERNAME}\n")
    assert (own_pass.returncode, own_pass.stdout) == (0, "canary-askpass-pw\n")
    for result in refused:
        assert result.returncode != 0
        assert result.stdout == ""
        assert "canary-askpass-pw" not in result.stderr
