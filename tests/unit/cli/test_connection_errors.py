"""Connection errors name the server URL and the cause, never credentials (pure parts)."""

from __future__ import annotations

import ssl

import urllib3

from sealer.kube import errors as kerrors


def _raised(exc: BaseException, cause: BaseException) -> BaseException:
    try:
        raise exc from cause
    except BaseException as caught:  # building a chain to inspect
        return caught


def test_a_refused_connection_is_named_with_the_server_url_like_kubectl() -> None:
    inner = _raised(urllib3.exceptions.NewConnectionError(None, "Failed to establish"),
                    ConnectionRefusedError(111, "Connection refused"))
    outer = urllib3.exceptions.MaxRetryError(None, "/api", reason=inner)  # type: ignore[arg-type]
    error = kerrors.unreachable(server="https://10.0.0.1:6443", exc=outer, what="GET /api")
    assert str(error) == ("Unable to connect to the server at https://10.0.0.1:6443: "
                          "Connection refused (GET /api)")
    assert error.status == 0 and error.retryable


def test_tls_and_timeouts_get_their_own_words() -> None:
    bad_cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    bad_cert.verify_message = "self-signed certificate"
    assert kerrors.connection_cause(bad_cert) == "TLS: self-signed certificate"
    timeout = urllib3.exceptions.ReadTimeoutError(None, "/api", "read timed out")  # type: ignore[arg-type]
    assert kerrors.connection_cause(timeout) == "timed out waiting for an answer"


def test_the_url_in_a_message_loses_userinfo_and_query() -> None:
    assert kerrors.public_url("https://admin:hunter2@api.example:6443/k8s?token=t") == \
        "https://api.example:6443/k8s"
    assert kerrors.public_url("https://[::1]:6443") == "https://[::1]:6443"
