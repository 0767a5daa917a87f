"""The Bitnami template forms, for `bitnami.com` SealedSecrets: a tiny subset of Go's
text/template, turned into the same parse tree the Jinja dialect produces (so it goes through
the same checks, caps and sandbox).

Bitnami renders `spec.template.data` with Go text/template plus the sprig functions. Supported
here are exactly the two forms its documentation shows for reading an item:

    {{ .password }}            an item whose key is an ASCII identifier
    {{ index . "db-password" }}  any item key (no backslash escapes)

with any literal text around them. Every other action (`{{ .a | b64enc }}`, sprig functions,
`{{- trim -}}` markers, comments, `if`/`range`) is refused with a message saying so: evaluating
Go templates and sprig is not something this controller does. A missing item is an error, where
Bitnami would print `<no value>`.
"""

from __future__ import annotations

import re

from jinja2 import nodes

from sealer.templating._values import Refused

_ACTION = re.compile(
    r'\{\{ *(?:\.(?P<field>[A-Za-z_][A-Za-z0-9_]*)|index +\. +"(?P<key>[^"\\{}]*)") *\}\}')


def parse(source: str) -> nodes.Template:
    """The parse tree of a Bitnami template: text and item lookups only."""
    parts: list[nodes.Expr] = []
    position = 0
    for match in _ACTION.finditer(source):
        _literal(source[position:match.start()], parts)
        key = match.group("field") or match.group("key") or ""
        parts.append(nodes.Getitem(nodes.Name("data", "load"), nodes.Const(key), "load"))
        position = match.end()
    _literal(source[position:], parts)
    return nodes.Template([nodes.Output(parts)])


def _literal(text: str, parts: list[nodes.Expr]) -> None:
    if "{{" in text:
        raise Refused('uses a Go template action other than {{ .key }} and {{ index . "key" }}; '
                      "sprig functions and other actions are not evaluated for bitnami.com "
                      "objects (use a sealops.dev SealedSecret for the full template language)")
    if text:
        parts.append(nodes.TemplateData(text))
