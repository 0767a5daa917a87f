"""One unauthenticated client must not knock over the controller's HTTP endpoints.

Each test runs the real controller process and attacks it over a socket the way the issue did:
a negative or malformed Content-Length, hostile names, slow connections, concurrent verifies,
a request with thousands of v1 items, a rotate of a deeply nested object. Each bad request gets
exactly one clear answer, and the process's memory and threads stay bounded (read from
/proc/<pid>/status; the figures are printed for the record).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from pathlib import Path
from typing import Any

from sealer.crypto import scope
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    RunningController,
    StartController,
    sealed_secret,
)

FAILURE = b"the SealedSecret cannot be opened by this controller\n"


def _proc_status(ctl: RunningController) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{ctl.proc.pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "Threads"):
            fields[key] = int(value.split()[0])
    return {"rss_kib": fields["VmRSS"], "threads": fields["Threads"]}


def _cpu_seconds(ctl: RunningController) -> float:
    stat = Path(f"/proc/{ctl.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / 100.0  # utime + stime, in clock ticks


def _address(ctl: RunningController) -> tuple[str, int]:
    host, _, port = ctl.url.removeprefix("http://").rpartition(":")
    return host, int(port)


def _exchange(ctl: RunningController, data: bytes, *, then: bytes = b"") -> bytes:
    """Send `data`, read the answer until the server closes, then try to stream `then` (what
    the old server kept reading into memory); the raw answer."""
    with socket.create_connection(_address(ctl), timeout=60) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(1 << 16):
                answer += chunk
        except ConnectionResetError:
            pass
        try:
            for start in range(0, len(then), 1 << 16):
                sock.sendall(then[start:start + (1 << 16)])
        except OSError:
            pass  # closed after its answer: nothing more is read
    return answer


def _status_line(answer: bytes) -> bytes:
    return answer.split(b"\r\n", 1)[0]


def _body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def test_negative_and_malformed_content_length_get_one_400_and_memory_stays_flat(
    namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    before = _proc_status(ctl)
    flood = b"x" * (64 << 20)  # what the old server read into memory after Content-Length -1

    answers = [_exchange(ctl, b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: " + value + b"\r\n\r\n", then=flood)
               for value in (b"-1", b"-2097153", b"abc", b"1e9", b"0x10", b" ")]

    after = _proc_status(ctl)
    print(f"negative/malformed Content-Length: before {before}, after {after}")
    assert [_status_line(a).split(b" ", 2)[1] for a in answers] == [b"400"] * len(answers)
    assert after["rss_kib"] - before["rss_kib"] < 64 << 10
    assert ctl.get("/healthz")[0] == 200


def test_hostile_names_get_one_400_naming_the_field(
    namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    good = sealed_secret(namespace=namespace, name="db", public=ctl.public(), data={"k": b"v"})
    cases = {"a/b": ("namespace", "a/b"), "": ("namespace", ""), "long": ("name", "n" * 300),
             "upper": ("name", "DB"), "slash": ("name", "a/b"), "none": ("namespace", None)}
    answers = {}
    for case, (field, value) in cases.items():
        doc = json.loads(_body(good))
        doc["metadata"][field] = value
        answers[case] = ctl.post("/v1/verify", _body(doc))

    assert {case: status for case, (status, _) in answers.items()} == dict.fromkeys(cases, 400)
    assert answers["a/b"][1] == b"namespace 'a/b' is not a valid DNS-1123 label\n"
    assert answers[""][1] == b"metadata.namespace is missing or empty\n"
    assert b"metadata.name 'nnnn" in answers["long"][1]
    for path in ("/v1/verify", "/v1/rotate"):
        assert ctl.post(path, b"kind: SealedSecret\n")[0] == 400
        assert ctl.post(path, b"\xff\xfe")[0] == 400
    assert ctl.post("/v1/verify", _body(good)) == (200, b"ok\n")


def test_slow_connections_are_closed_and_threads_stay_bounded(
    namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    before = _proc_status(ctl)
    slow = []
    for _ in range(300):  # each sends half a request line and then nothing (slow loris)
        sock = socket.create_connection(_address(ctl), timeout=60)
        sock.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Le")
        slow.append(sock)
    during = _proc_status(ctl)
    status, _ = ctl.get("/healthz")  # probes still get through (or a clear 503, never a hang)

    answers = []
    for sock in slow:  # the server ends every one of them: a 503 at once or a close later
        data = b""
        try:
            while chunk := sock.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
        sock.close()
        answers.append(data)
    after = _proc_status(ctl)
    print(f"300 slow connections: before {before}, during {during}, after {after}")
    refused = [a for a in answers if a]
    assert all(_status_line(a) == b"HTTP/1.1 503 Service Unavailable" for a in refused)
    assert refused  # over the connection cap (128): refused at once, not queued
    assert during["threads"] <= before["threads"] + 4
    assert status in (200, 503)
    wait_for(lambda: ctl.get("/healthz")[0] == 200, what="/healthz after the slow connections")


def test_a_slow_body_is_cut_off_with_408(
    namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    with socket.create_connection(_address(ctl), timeout=120) as sock:
        sock.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert _status_line(answer) == b"HTTP/1.1 408 Request Timeout"


def test_fifty_concurrent_verifies_each_get_their_own_correct_answer(
    namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace, args=("--rate-limit", "1000"))
    public = ctl.public()
    docs, expected = [], []
    for i in range(50):
        version = 1 if i % 2 else 2
        doc = sealed_secret(namespace=namespace, name=f"s{i}", public=public,
                            data={f"k{j}": f"v{i}-{j}".encode() for j in range(3)},
                            version=version)
        if i % 3 == 0:  # moved to another name: must not open
            doc["metadata"]["name"] = f"other{i}"
        docs.append(_body(doc))
        expected.append((409, FAILURE) if i % 3 == 0 else (200, b"ok\n"))
    answers: list[tuple[int, bytes] | None] = [None] * 50
    start = threading.Barrier(50)

    def call(i: int) -> None:
        start.wait()
        answers[i] = ctl.post("/v1/verify", docs[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wrong = [i for i in range(50) if answers[i] != expected[i]]
    assert wrong == [], [answers[i] for i in wrong]


def test_thousands_of_v1_items_are_refused_before_any_key_is_tried(
    namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    public = ctl.public()
    one = sealed_secret(namespace=namespace, name="db", public=public, data={"k": b"v"},
                        version=1)["spec"]["encryptedData"]["k"]
    doc = sealed_secret(namespace=namespace, name="db", public=public, data={"k": b"v"},
                        version=1)
    doc["spec"]["encryptedData"] = {f"k{i}": one for i in range(2700)}
    body = _body(doc)
    cpu_before = _cpu_seconds(ctl)

    verify = ctl.post("/v1/verify", body)
    rotate = ctl.post("/v1/rotate", body)

    cpu = _cpu_seconds(ctl) - cpu_before
    print(f"2,700 v1 items ({len(body)} bytes): verify {verify[0]}, rotate {rotate[0]}, "
          f"controller CPU {cpu:.2f} s")
    assert verify[0] == rotate[0] == 413
    assert b"needs 2700 key openings" in verify[1]
    small = sealed_secret(namespace=namespace, name="db", public=public, data={"k": b"v"})
    assert ctl.post("/v1/verify", _body(small)) == (200, b"ok\n")  # the bucket was not drained


def test_rotate_answers_compact_json_bounded_by_its_input(
    namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    doc = sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                        data={"k": b"v"}, sealed_scope=scope.Scope.STRICT)
    nested: Any = [0] * 4000
    for _ in range(60):  # pretty-printing this indents every 0 by 120+ spaces
        nested = [nested]
    doc["x-extra"] = [nested] * 120
    doc["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    body = json.dumps(doc, separators=(",", ":")).encode()

    status, answer = ctl.post("/v1/rotate", body)

    print(f"rotate: {len(body)} bytes in, {len(answer)} bytes out")
    assert status == 200
    assert len(answer) <= 2 * len(body)
    rotated = json.loads(answer)
    assert "status" not in rotated
    assert set(rotated["spec"]["encryptedData"]) == {"k"}
    assert base64.b64decode(rotated["spec"]["encryptedData"]["k"])[:2] == b"SO"
