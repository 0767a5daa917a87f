"""`sealer.kube.controller` (answers -> errors, URLs, proxy paths) and `sealer.kube.publickeys`
(the published ConfigMap -> checked public keys). Pure: fake transports and API answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sealer import errors
from sealer.crypto import keys
from sealer.kube import client, publickeys
from sealer.kube import controller as controllers
from sealer.kube import errors as kerrors

from .conftest import KeyFiles
from .test_leaks import assert_clean, make_canary

SEALED = {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
          "metadata": {"name": "db", "namespace": "prod"},
          "spec": {"encryptedData": {"k": "AAAA"}}}


class Answer:
    """A transport that answers every request the same way."""

    endpoint = "http://controller.test"

    def __init__(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.response = controllers.Response(status=status, content_type=content_type,
                                             body=body)

    def request(self, method: str, path: str, *, body: bytes | None = None
                ) -> controllers.Response:
        return self.response

    def close(self) -> None:
        pass


def client_answering(status: int, body: bytes, content_type: str = "text/plain"
                     ) -> controllers.ControllerClient:
    return controllers.ControllerClient(Answer(status, body, content_type),
                                        sleep=lambda seconds: None)


class Sequence:
    """A transport answering with `statuses` in turn (a rate-limited controller)."""

    endpoint = "http://controller.test"

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.calls = 0

    def request(self, method: str, path: str, *, body: bytes | None = None
                ) -> controllers.Response:
        self.calls += 1
        return controllers.Response(status=self.statuses.pop(0), content_type="text/plain",
                                    body=b"ok\n")

    def close(self) -> None:
        pass


def test_a_rate_limited_request_is_retried_with_growing_waits() -> None:
    waits: list[float] = []
    transport = Sequence(429, 429, 200)
    client = controllers.ControllerClient(transport, sleep=waits.append)
    assert client.verify(SEALED) is True
    assert (transport.calls, waits) == (3, [2.0, 4.0])


def test_a_rate_limit_that_outlasts_the_retries_is_a_retryable_cluster_error() -> None:
    waits: list[float] = []
    transport = Sequence(429, 429, 429, 429)
    client = controllers.ControllerClient(transport, sleep=waits.append)
    with pytest.raises(errors.ClusterError, match="rate limiting") as info:
        client.verify(SEALED)
    assert info.value.retryable
    assert waits == list(controllers.RETRY_WAITS_S)


def test_verify_is_true_on_200_and_false_on_409() -> None:
    assert client_answering(200, b"ok\n").verify(SEALED) is True
    assert client_answering(409, b"no\n").verify(SEALED) is False


def test_rotate_on_409_is_an_unseal_error_naming_the_object() -> None:
    with pytest.raises(controllers.NotOpenableError) as info:
        client_answering(409, b"no\n").rotate(SEALED)
    assert isinstance(info.value, errors.UnsealError)
    assert info.value.exit_code == errors.UnsealError.exit_code
    assert str(info.value) == "SealedSecret prod/db cannot be opened by the controller's keys"


@pytest.mark.parametrize(
    ("status", "content_type", "error", "retryable", "message"),
    [
        (429, "text/plain", errors.ClusterError, True, "rate limiting; retry in a minute"),
        (400, "text/plain", errors.ManifestError, False, "refused the SealedSecret as malformed"),
        (413, "text/plain", errors.ManifestError, False, "malformed (413)"),
        (500, "text/plain", errors.ClusterError, True, "answered 500"),
        (503, "application/json", kerrors.ApiError, True, "503 ServiceUnavailable"),
        (403, "application/json", kerrors.ApiError, False, "403 Forbidden"),
    ],
)
def test_answers_map_to_errors_that_never_echo_the_body(
    status: int, content_type: str, error: type[Exception], retryable: bool, message: str
) -> None:
    canary = make_canary()
    if content_type == "application/json":
        body = json.dumps({"kind": "Status", "reason": "ServiceUnavailable" if status == 503
                           else "Forbidden", "message": f"no endpoints {canary}",
                           "code": status}).encode()
    else:
        body = f"error: {canary}\n".encode()
    for call in (client_answering(status, body, content_type).verify,
                 client_answering(status, body, content_type).rotate):
        with pytest.raises(error) as info:
            call(SEALED)
        assert message in str(info.value)
        assert getattr(info.value, "retryable", None) is retryable
        if status != 403:  # 403 texts name objects and are shown; others are dropped
            assert_clean(canary, str(info.value))


def test_a_rotate_answer_that_is_not_a_json_object_is_a_cluster_error() -> None:
    for body in (b"[]", b"\xff", b"null"):
        with pytest.raises(errors.ClusterError, match="not a JSON object"):
            client_answering(200, body, "application/json").rotate(SEALED)


def test_the_rotate_answer_is_returned_as_sent() -> None:
    answer = dict(SEALED, extra={"x": 1})
    rotated = client_answering(200, json.dumps(answer).encode(), "application/json").rotate(
        SEALED)
    assert rotated == answer


@pytest.mark.parametrize(
    "url",
    ["ftp://x", "controller:8080", "http://user:pw@controller", "http://c/?token=x",
     "http://c/#f", "http://"],
)
def test_controller_urls_must_be_plain_http_or_https(url: str) -> None:
    with pytest.raises(errors.UsageError):
        controllers.DirectTransport(url)


def test_the_proxy_path_names_the_service_and_port_and_the_repr_hides_the_token() -> None:
    token = "Bearer " + make_canary()
    connection = client.Connection(server="https://api.test:6443/", auth=lambda: token)
    proxy = controllers.ProxyTransport(connection, namespace="sealops-system")
    assert proxy._url("/v1/verify") == (
        "https://api.test:6443/api/v1/namespaces/sealops-system/services/"
        "http:sealops-controller:8080/proxy/v1/verify")
    assert proxy._headers() == {"Authorization": token}
    assert proxy.endpoint == ("service sealops-system/sealops-controller:8080 "
                              "(through the API server at https://api.test:6443/)")
    assert token not in repr(proxy) + repr(controllers.ControllerClient(proxy))


# --- published public keys ----------------------------------------------------------------------


def configmap(key_files: KeyFiles, **data: str) -> dict[str, Any]:
    public = key_files.generation.public()
    return {"data": {"public.pem": keys.public_pem(public).decode(),
                     "key-id": public.key_id_hex, **data}}


def test_the_published_configmap_parses_to_the_controllers_keys(key_files: KeyFiles) -> None:
    published = publickeys.parse(configmap(key_files), source="ConfigMap k/sealops-public-keys")
    assert published.public == key_files.generation.public()
    assert published.pem == keys.public_pem(key_files.generation.public())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"public.pem": ""}, "has no public.pem"),
        ({"public.pem": "garbage"}, "public.pem: PEM data has unexpected content"),
        ({"public.pem": "é"}, "is not a public key PEM"),
        ({"key-id": "0011223344556677"}, "names another key"),
    ],
)
def test_a_broken_configmap_is_refused_naming_it(
    key_files: KeyFiles, data: dict[str, str], message: str
) -> None:
    with pytest.raises(errors.KeyMaterialError) as info:
        publickeys.parse(configmap(key_files, **data), source="ConfigMap k/sealops-public-keys")
    assert str(info.value).startswith("ConfigMap k/sealops-public-keys")
    assert message in str(info.value)


class ConfigMapApi:
    def __init__(self, found: dict[str, Any] | None) -> None:
        self.found = found
        self.asked: list[tuple[str, str | None]] = []

    def get(self, res: client.Resource, name: str, *, namespace: str | None = None
            ) -> dict[str, Any] | None:
        assert res is client.CONFIGMAPS
        self.asked.append((name, namespace))
        return self.found


def test_fetch_reads_the_configmap_of_the_controller_namespace(key_files: KeyFiles) -> None:
    api = ConfigMapApi(configmap(key_files))
    published = publickeys.fetch(api, namespace="ops")  # type: ignore[arg-type]
    assert api.asked == [("sealops-public-keys", "ops")]
    assert published.source == "ConfigMap ops/sealops-public-keys"
    with pytest.raises(errors.ClusterError, match="is the sealops controller running"):
        publickeys.fetch(ConfigMapApi(None), namespace="ops")  # type: ignore[arg-type]
