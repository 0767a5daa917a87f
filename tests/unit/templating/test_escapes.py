"""Sandbox escapes, tried against both layers: the language check and the sandbox under it.

Every attempt must end in a `TemplateError` that names the key and never carries a value;
the same attempts compiled straight into the sandbox (skipping the language check) must still
be refused at run time, so one layer failing open is not an escape.
"""

from __future__ import annotations

import jinja2
import pytest

from sealer import templating
from sealer.templating import _engine, _values

CANARY = "canary-7f3a91c0e2"
ITEMS = {"password": CANARY.encode(), "user": b"app"}

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ password.__class__ }}",
    "{{ password.__init__.__globals__ }}",
    "{{ data.__class__ }}",
    "{{ data['__class__'] }}",
    "{{ data._values }}",
    "{{ data.items() }}",
    "{{ data.get('password') }}",
    "{{ password.upper() }}",
    "{{ '{0.__class__}'.format(password) }}",
    "{{ password.format_map(data) }}",
    "{{ '%s' % password }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ joiner() }}",
    "{{ namespace() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ range(10**9)|join }}",
    "{{ dict(a=1) }}",
    "{{ loop }}",
    "{{ caller() }}",
    "{{ 'a' * 10**9 }}",
    "{{ password * 100000000 }}",
    "{{ 9**9**9 }}",
    "{{ password + password }}",
    "{{ -password }}",
    "{{ password[0:3] }}",
    "{{ password[0] }}",
    "{{ password is defined }}",
    "{{ password|attr('__class__') }}",
    "{{ password|map('upper')|list }}",
    "{{ password|format('x') }}",
    "{{ password|pprint }}",
    "{{ data|dictsort }}",
    "{{ password|e }}",
    "{% set x = password %}{{ x }}",
    "{% set x %}{{ password }}{% endset %}",
    "{% macro m() %}{{ password }}{% endmacro %}{{ m() }}",
    "{% call password() %}{% endcall %}",
    "{% filter upper %}{{ password }}{% endfilter %}",
    "{% include '/etc/passwd' %}",
    "{% import 'x' as x %}",
    "{% from 'x' import y %}",
    "{% extends '/proc/self/environ' %}",
    "{% block b %}{% endblock %}",
    "{% with x = password %}{{ x }}{% endwith %}",
    "{% for c in password %}{{ c }}{% endfor %}",
    "{% for k, v in data.items() %}{{ v }}{% endfor %}",
    "{% for x in range(100000000) %}x{% endfor %}",
    "{% for k in data recursive %}{{ loop(data) }}{% endfor %}",
    "{% for k in data if k %}{% endfor %}",
    "{% do data.update({}) %}",
    "{{ data[password] }}",
    "{{ data[user ~ ''] }}",
    "{{ password in data }}",
    "{{ password < 'x' }}",
    "{{ (password, user) }}",
    "{{ __builtins__ }}",
    "{{ _values }}",
    "{{ 1.5e300 }}",
    "{{ 10000000000 }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempts_are_refused_naming_the_key_never_a_value(source: str) -> None:
    with pytest.raises(templating.TemplateError) as info:
        templating.render_all({"esc": source}, ITEMS, what="SealedSecret ns/x spec.template.data")
    message = str(info.value)
    assert message.startswith("SealedSecret ns/x spec.template.data key 'esc': the template ")
    assert CANARY not in message and CANARY not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


RUNTIME_ESCAPES = [
    "{{ ''.__class__ }}",
    "{{ password.__class__.__mro__ }}",
    "{{ password.upper() }}",
    "{{ '{0}'.format(password) }}",
    "{{ 'a' * 1000 }}",
    "{{ 2 ** 100 }}",
    "{{ -1 }}",
    "{{ password[0] }}",
    "{{ data.items() }}",
    "{{ data._values }}",
    "{{ range(3)|list }}",
    "{{ cycler }}",
    "{{ lipsum() }}",
]


@pytest.mark.parametrize("source", RUNTIME_ESCAPES)
def test_the_sandbox_alone_refuses_what_the_language_check_would(source: str) -> None:
    env = _engine.Sandbox(cap=1000)
    budget = _values.Budget(iterations=10, deadline=float("inf"), clock=lambda: 0.0)
    context = {"password": CANARY, "data": _values.Items({"password": CANARY}, budget)}
    with pytest.raises((_values.Refused, jinja2.TemplateError)) as info:
        "".join(env.from_string(source).generate(context))
    assert CANARY not in str(info.value)


def test_the_sandbox_has_no_globals_tests_or_loader() -> None:
    env = _engine.Sandbox(cap=10)
    assert env.globals == {}
    assert env.tests == {}
    assert env.loader is None
    assert set(env.filters) == templating.FILTERS | {"_sealops_concat"}
    assert env.autoescape is False


def test_the_budget_object_cannot_be_reached_from_a_template() -> None:
    for source in ("{{ data._budget }}", "{{ data['_budget'] }}", "{{ _budget }}"):
        with pytest.raises(templating.TemplateError):
            templating.render_all({"k": source}, ITEMS, what="x")
