"""The askpass helper is bound to the source URL's origin (issue 10 item 7)."""

from __future__ import annotations

import pytest

from controller.sources import credentials, gitcli


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://git.example.com/org/app.git", "https://git.example.com"),
        ("https://git.example.com:8443/org/app.git", "https://git.example.com:8443"),
        ("http://127.0.0.1:4000/app.git", "http://127.0.0.1:4000"),
        ("http://[::1]:4000/app", "http://[::1]:4000"),
        ("https://git.example.com", "https://git.example.com"),
    ],
)
def test_prompts_name_exactly_the_origin_of_the_source_url(url: str, origin: str) -> None:
    user_prompt, password_prompt = credentials.askpass_prompts(url, username="alice")
    scheme, _, host = origin.partition("://")
    assert user_prompt == f"Username for '{origin}': "
    assert password_prompt == f"Password for '{scheme}://alice@{host}': "


def test_a_url_without_a_scheme_gets_prompts_git_never_shows() -> None:
    prompts = credentials.askpass_prompts("git@example.com:org/app.git", username="git")
    assert all("\x00" in prompt for prompt in prompts)


def test_git_is_told_not_to_follow_redirects_and_to_prompt_per_host() -> None:
    args = gitcli.hardening_args(allow_local=False, transport="https")
    assert "http.followRedirects=false" in args
    assert "credential.useHttpPath=false" in args
