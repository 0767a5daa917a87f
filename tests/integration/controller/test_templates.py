"""Templated Secret data on a real control plane with a real controller (issue 13 item 1).

A templated DSN becomes the Secret's value; a template error is Ready=False reason
TemplateError naming the key while the old Secret stays exactly as it was; sandbox escapes
(internals, huge loops and strings, file and environment access) are refused by the controller,
which keeps serving other objects; a template probing a value learns nothing from the status;
and no sink but the Secret's data ever holds a value.
"""

from __future__ import annotations

import json
from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    BITNAMI,
    SEALOPS,
    RunningController,
    StartController,
    ready_condition,
    sealed_secret,
    secret_data,
)
from tests.unit.cli.test_leaks import forms, make_canary

DSN = "postgres://{{ user }}:{{ password }}@{{ data['db-host'] }}/shop?sslmode=require"


def _secret(kube: Any, namespace: str, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = kube.get(client.SECRETS, name, namespace=namespace)
    return found


def _condition(kube: Any, namespace: str, name: str, *, status: str,
               res: client.Resource = SEALOPS) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        cond = ready_condition(kube.get(res, name, namespace=namespace))
        return cond if cond and cond["status"] == status else None

    found: dict[str, Any] = wait_for(check, timeout=120, what=f"{name} Ready={status}")
    return found


def _templated(ctl: RunningController, namespace: str, name: str, data: dict[str, bytes],
               templates: dict[str, str | None]) -> dict[str, Any]:
    return sealed_secret(namespace=namespace, name=name, public=ctl.public(), data=data,
                         template={"type": "Opaque", "data": templates})


def test_a_templated_dsn_becomes_the_secret_value(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    items = {"user": b"shop", "password": b"pw-1", "db-host": b"db.internal"}
    kube.create(SEALOPS, _templated(ctl, namespace, "db", items, {
        "dsn": DSN, "password": None, "config.yaml": "db:\n  password: {{ password|toJson }}\n"}),
        namespace=namespace)

    cond = _condition(kube, namespace, "db", status="True")
    assert cond["reason"] == "Succeeded"
    secret = _secret(kube, namespace, "db")
    assert secret is not None
    assert secret_data(secret) == {
        "user": b"shop", "db-host": b"db.internal",
        "dsn": b"postgres://shop:pw-1@db.internal/shop?sslmode=require",
        "config.yaml": b'db:\n  password: "pw-1"\n'}


def test_a_template_error_is_ready_false_naming_the_key_and_the_old_secret_stays(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    canary = make_canary()
    items = {"user": b"shop", "password": canary.encode(), "db-host": b"db"}
    kube.create(SEALOPS, _templated(ctl, namespace, "db", items, {"dsn": DSN}),
                namespace=namespace)
    _condition(kube, namespace, "db", status="True")
    good = _secret(kube, namespace, "db")
    assert good is not None

    live = kube.get(SEALOPS, "db", namespace=namespace)
    live["spec"]["template"]["data"] = {"dsn": DSN, "broken": "{{ password|b64dec }}{{ pasword }}"}
    kube.replace(SEALOPS, live, namespace=namespace)

    cond = _condition(kube, namespace, "db", status="False")
    assert cond["reason"] == "TemplateError"
    assert cond["message"] == (
        f"SealedSecret {namespace}/db spec.template.data key 'broken': the template reads "
        "item 'pasword', which does not exist (use default to allow a missing item)")
    after = _secret(kube, namespace, "db")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == good["metadata"]["resourceVersion"]
    assert secret_data(after) == secret_data(good)
    _assert_no_canary(kube, namespace, ctl, canary)


def test_bitnami_objects_render_the_documented_go_forms_and_refuse_the_rest(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace, args=("--bitnami-compat",))
    items = {"db-user": b"shop", "password": b"pw"}
    for name, source in {"go": 'u={{ index . "db-user" }} p={{ .password }}',
                         "sprig": "{{ .password | b64enc }}"}.items():
        kube.create(BITNAMI, sealed_secret(namespace=namespace, name=name, public=ctl.public(),
                                           data=items, group="bitnami.com",
                                           template={"data": {"v": source}}),
                    namespace=namespace)
    _condition(kube, namespace, "go", status="True", res=BITNAMI)
    assert secret_data(_secret(kube, namespace, "go") or {})["v"] == b"u=shop p=pw"
    cond = _condition(kube, namespace, "sprig", status="False", res=BITNAMI)
    assert cond["reason"] == "TemplateError"
    assert "sprig functions and other actions are not evaluated" in cond["message"]
    assert _secret(kube, namespace, "sprig") is None


def test_the_outcome_tells_a_template_author_nothing_about_the_values(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    """Same sizes, one value matching the author's guess and one not: the same status, and the
    guess only changes what lands in the Secret (which the author may not be able to read)."""
    ctl = start_controller(watch=namespace)
    guess = "{% if password == 'guess-1' %}{{ password|replace('g', 'gggggggg') }}{% else %}" \
            "no{% endif %}"
    big = "{% if password == 'guess-1' %}{{ password|replace('', '" + "x" * 20000 + \
          "')|upper|toJson }}{% endif %}"  # worst case about 2.9 MB: over the cap, for both
    for name, value in {"match": b"guess-1", "miss": b"other-1"}.items():
        kube.create(SEALOPS, _templated(ctl, namespace, name, {"password": value},
                                        {"probe": guess}), namespace=namespace)
        kube.create(SEALOPS, _templated(ctl, namespace, f"{name}-big", {"password": value},
                                        {"probe": big}), namespace=namespace)
    outcomes = {}
    for name in ("match", "miss", "match-big", "miss-big"):
        cond = wait_for(lambda n=name: ready_condition(kube.get(SEALOPS, n, namespace=namespace)),
                        timeout=120, what=f"{name} Ready")
        outcomes[name] = (cond["status"], cond["reason"],
                          cond["message"].replace(f"/{name}", "/<name>"))
    assert outcomes["match"] == outcomes["miss"]
    assert outcomes["match"][:2] == ("True", "Succeeded")
    assert outcomes["match-big"] == outcomes["miss-big"]
    assert outcomes["match-big"][:2] == ("False", "TemplateError")
    assert secret_data(_secret(kube, namespace, "match") or {})["probe"] == b"gggggggguess-1"
    assert secret_data(_secret(kube, namespace, "miss") or {})["probe"] == b"no"


ESCAPES = {
    "internals": "{{ password.__class__.__mro__[1].__subclasses__() }}",
    "globals": "{{ cycler.__init__.__globals__.os.environ }}",
    "lipsum": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "self": "{{ self._TemplateReference__context }}",
    "format": "{{ '{0.__class__}'.format(password) }}",
    "huge-string": "{{ 'a' * 10**9 }}",
    "huge-loop": "{% for a in data %}{% for b in data %}{% for c in data %}{% for d in data %}"
                 "{% for e in data %}{{ password }}{% endfor %}{% endfor %}{% endfor %}"
                 "{% endfor %}{% endfor %}",
    "huge-replace": "{{ password|replace('', password ~ password ~ password) }}",
    "file": "{% include '/etc/passwd' %}",
    "env": "{% extends '/proc/self/environ' %}",
    "import": "{% import 'os' as os %}",
    "range": "{% for i in range(10**8) %}x{% endfor %}",
}


def test_sandbox_escapes_are_refused_and_the_controller_keeps_serving(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    canary = make_canary()
    items = {f"k{i}": b"x" for i in range(30)} | {"password": canary.encode() * 1000}
    for name, source in ESCAPES.items():
        kube.create(SEALOPS, _templated(ctl, namespace, name, items, {"value": source}),
                    namespace=namespace)
    kube.create(SEALOPS, _templated(ctl, namespace, "fine", {"password": b"pw"},
                                    {"value": "{{ password|upper }}"}), namespace=namespace)

    for name in ESCAPES:
        cond = _condition(kube, namespace, name, status="False")
        assert cond["reason"] == "TemplateError", (name, cond)
        assert cond["message"].startswith(
            f"SealedSecret {namespace}/{name} spec.template.data key 'value': the template "), \
            cond["message"]
        assert _secret(kube, namespace, name) is None
    _condition(kube, namespace, "fine", status="True")
    assert secret_data(_secret(kube, namespace, "fine") or {}) == {
        "password": b"pw", "value": b"PW"}
    assert ctl.proc.poll() is None
    sinks = _sinks(kube, namespace, ctl)
    assert "root:x:0:0" not in json.dumps(sinks)
    _assert_no_canary(kube, namespace, ctl, canary)


def _sinks(kube: Any, namespace: str, ctl: RunningController) -> dict[str, str]:
    """Everywhere but Secret data: the log, Events, SealedSecrets (status, annotations,
    managed fields) and the metadata of every Secret."""
    return {
        "controller log": ctl.log_text(),
        "events": json.dumps(kube.list(client.EVENTS, namespace=namespace)),
        "sealed secrets": json.dumps(kube.list(SEALOPS, namespace=namespace)),
        "secret metadata": json.dumps([s["metadata"] for s in kube.list(
            client.SECRETS, namespace=namespace)]),
    }


def _assert_no_canary(kube: Any, namespace: str, ctl: RunningController, canary: str) -> None:
    hits = [(sink, form) for sink, text in _sinks(kube, namespace, ctl).items()
            for form in forms(canary) if form in text]
    assert hits == []
