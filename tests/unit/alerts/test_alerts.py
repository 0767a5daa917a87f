"""Alert specs, address policy, rate limits and payloads (controller.alerts). Pure."""

from __future__ import annotations

import json

import pytest

from controller.alerts import dispatch, spec
from sealer import errors


def test_addresses_are_https_or_loopback_http_without_credentials() -> None:
    assert spec.check_address("https://hooks.example/T/B/x") == "https://hooks.example/T/B/x"
    assert spec.check_address("http://127.0.0.1:9000/sink")
    assert spec.check_address("http://[::1]:9000/")
    for refused in ("http://10.0.0.1/", "http://metadata.internal/", "ftp://x/",
                    "https://user:pw@hooks.example/", "file:///etc/passwd", "gopher://x"):
        with pytest.raises(errors.PolicyError) as caught:
            spec.check_address(refused)
        assert refused not in str(caught.value)


def test_an_alert_watches_only_its_own_namespace_and_known_kinds() -> None:
    base = {"type": "slack", "secretRef": {"name": "hook"}}
    parsed = spec.parse({**base, "eventSources": [{"kind": "GitSync", "name": "*"}],
                         "eventSeverity": "error"})
    assert parsed.errors_only and parsed.sources[0].matches("GitSync", "anything")
    with pytest.raises(errors.PolicyError):
        spec.parse({**base, "eventSources": [{"kind": "GitSync", "name": "a",
                                              "namespace": "other"}]})
    with pytest.raises(errors.ManifestError, match="kind"):
        spec.parse({**base, "eventSources": [{"kind": "Secret", "name": "a"}]})


def test_the_limiter_dedupes_and_caps_sends_per_alert() -> None:
    clock = [0.0]
    limiter = dispatch.Limiter(per_minute=3, dedupe_s=60.0, now=lambda: clock[0])
    key = ("ns", "alert")
    assert limiter.allow(key, "a")
    assert not limiter.allow(key, "a")  # the same notification again
    assert limiter.allow(key, "b") and limiter.allow(key, "c")
    assert not limiter.allow(key, "d")  # the bucket is empty
    assert limiter.allow(("ns", "other"), "d")  # per Alert
    clock[0] = 20.0  # one token back
    assert limiter.allow(key, "d")
    clock[0] = 100.0
    assert limiter.allow(key, "a")  # the dedupe window is over


def test_payloads_carry_the_event_and_nothing_else() -> None:
    event = {"type": "Warning", "reason": "FetchFailed", "message": "fetch failed: 401",
             "lastTimestamp": "2026-01-01T00:00:00Z",
             "involvedObject": {"kind": "GitSync", "namespace": "shop", "name": "app",
                                "uid": "u-1"}}
    generic = json.loads(dispatch.payload(spec.GENERIC, event))
    assert generic == {"involvedObject": {"kind": "GitSync", "namespace": "shop",
                                          "name": "app"},
                       "severity": "error", "reason": "FetchFailed",
                       "message": "fetch failed: 401", "timestamp": "2026-01-01T00:00:00Z",
                       "reportingController": "sealops-controller"}
    slack = json.loads(dispatch.payload(spec.SLACK, event))
    assert slack == {"text": "error: GitSync shop/app FetchFailed: fetch failed: 401"}
