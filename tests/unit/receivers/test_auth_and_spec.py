"""Receiver authentication, replays and spec (controller.receivers.auth, .spec). Pure."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from controller.receivers import auth, spec
from sealer import errors

TOKEN = b"shared-token"
NOW = 1_700_000_000.0


def sign(message: bytes, token: bytes = TOKEN) -> str:
    return "sha256=" + hmac.new(token, message, hashlib.sha256).hexdigest()


def github(body: bytes, **extra: str) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(body), "X-GitHub-Delivery": "d-1",
            "X-GitHub-Event": "push", **extra}


def generic(body: bytes, *, stamp: float = NOW, nonce: str = "n" * 16) -> dict[str, str]:
    return {"X-Timestamp": str(int(stamp)), "X-Nonce": nonce,
            "X-Signature": sign(f"{int(stamp)}.{nonce}.".encode() + body)}


def test_a_github_push_signed_with_the_token_is_a_delivery_that_triggers() -> None:
    body = b'{"ref":"refs/heads/main"}'
    assert auth.precheck(auth.GITHUB, github(body), token=TOKEN, now=NOW) is None
    verdict = auth.verify(auth.GITHUB, github(body), body, token=TOKEN, events=())
    assert isinstance(verdict, auth.Delivery) and verdict.work
    assert verdict.ids[0] == "github:d-1"


@pytest.mark.parametrize(("headers", "status"), [
    ({"X-GitHub-Delivery": "d"}, 401),
    ({"X-Hub-Signature-256": "sha1=abc", "X-GitHub-Delivery": "d"}, 401),
    ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 400),
])
def test_github_headers_are_checked_before_the_body(headers: dict[str, str],
                                                    status: int) -> None:
    refused = auth.precheck(auth.GITHUB, headers, token=TOKEN, now=NOW)
    assert refused is not None and refused.status == status


def test_a_github_body_signed_with_another_key_or_altered_is_refused() -> None:
    body = b"{}"
    forged = {**github(body), "X-Hub-Signature-256": sign(body, b"other")}
    assert auth.verify(auth.GITHUB, forged, body, token=TOKEN, events=()) == \
        auth.Refused(401, "X-Hub-Signature-256 does not match")
    assert isinstance(auth.verify(auth.GITHUB, github(body), body + b" ", token=TOKEN,
                                  events=()), auth.Refused)


def test_github_ping_and_unsubscribed_events_do_no_work() -> None:
    body = b"{}"
    ping = auth.verify(auth.GITHUB, github(body, **{"X-GitHub-Event": "ping"}), body,
                       token=TOKEN, events=())
    issue = auth.verify(auth.GITHUB, github(body, **{"X-GitHub-Event": "issues"}), body,
                        token=TOKEN, events=())
    assert isinstance(ping, auth.Delivery) and not ping.work
    assert isinstance(issue, auth.Delivery) and not issue.work


def test_gitlab_compares_the_token_before_the_body() -> None:
    assert auth.precheck(auth.GITLAB, {"X-Gitlab-Token": "shared-token"}, token=TOKEN,
                         now=NOW) is None
    assert auth.precheck(auth.GITLAB, {"X-Gitlab-Token": "shared-tokeN"}, token=TOKEN,
                         now=NOW) == auth.Refused(401, "X-Gitlab-Token does not match")
    assert auth.precheck(auth.GITLAB, {}, token=TOKEN, now=NOW) is not None


def test_generic_hmac_needs_a_fresh_timestamp_a_nonce_and_a_signature_over_both() -> None:
    body = b"payload"
    assert auth.precheck(auth.GENERIC_HMAC, generic(body), token=TOKEN, now=NOW) is None
    stale = generic(body, stamp=NOW - auth.WINDOW_S - 1)
    assert auth.precheck(auth.GENERIC_HMAC, stale, token=TOKEN, now=NOW).status == 401  # type: ignore[union-attr]
    short = generic(body, nonce="short")
    assert auth.precheck(auth.GENERIC_HMAC, short, token=TOKEN, now=NOW) is not None
    moved = {**generic(body), "X-Timestamp": str(int(NOW) + 1)}  # signature is over the old
    assert isinstance(auth.verify(auth.GENERIC_HMAC, moved, body, token=TOKEN, events=()),
                      auth.Refused)
    verdict = auth.verify(auth.GENERIC_HMAC, generic(body), body, token=TOKEN, events=())
    assert isinstance(verdict, auth.Delivery) and verdict.ids[0] == "nonce:" + "n" * 16


def test_replays_are_refused_within_the_window_and_forgotten_after() -> None:
    clock = [0.0]
    replays = auth.Replays(window=10.0, now=lambda: clock[0])
    assert replays.first_time("ns/r", ("github:1", "body:a"))
    assert not replays.first_time("ns/r", ("github:1", "body:b"))
    assert not replays.first_time("ns/r", ("github:2", "body:a"))  # same body, new id
    assert replays.first_time("ns/other", ("github:1", "body:a"))  # per Receiver
    clock[0] = 11.0
    assert replays.first_time("ns/r", ("github:1", "body:a"))


def test_the_webhook_path_is_fluxs_digest_of_token_name_and_namespace() -> None:
    path = spec.webhook_path(b"tok", name="hook", namespace="shop")
    assert path == "/hook/" + hashlib.sha256(b"tokhookshop").hexdigest()


def test_a_receiver_may_only_name_gitsyncs_in_its_own_namespace() -> None:
    base = {"type": "github", "secretRef": {"name": "t"}}
    parsed = spec.parse({**base, "resources": [{"kind": "GitSync", "name": "app"},
                                               {"kind": "GitSync", "name": "app",
                                                "namespace": "shop"}]}, namespace="shop")
    assert parsed.resources == ("app",)
    with pytest.raises(errors.PolicyError, match="another namespace"):
        spec.parse({**base, "resources": [{"kind": "GitSync", "name": "a",
                                           "namespace": "prod"}]}, namespace="shop")
    with pytest.raises(errors.PolicyError, match="only GitSync"):
        spec.parse({**base, "resources": [{"kind": "Secret", "name": "a"}]}, namespace="shop")
    with pytest.raises(errors.ManifestError, match=r"spec\.type"):
        spec.parse({**base, "type": "bitbucket", "resources": [{"kind": "GitSync",
                                                                "name": "a"}]}, namespace="s")
