"""The only functions a template can call (as Jinja filters), each written here, not Jinja's.

Every filter takes text (or, for `toJson`/`toYaml`, the structures a template can build: list
and dict literals, the `data` mapping) and never fails on a value (`_bounds` checks the sizes
beforehand from the items' sizes alone); each still checks the size of what it would produce
before producing it, a net under `_bounds` that should never be reached.
None reads a file, the environment, the clock, DNS or the network. Names follow Helm/sprig
(`b64enc`, `toJson`), which is what Bitnami and External Secrets users already write.

`concat` is internal: `_rules` rewrites the `~` operator into it so the joined size is capped too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
import yaml

from sealer.templating import _values
from sealer.templating._values import Refused

MAX_INDENT = 64
CONCAT = "_sealops_concat"
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


class Sized:
    """The filters of one environment, sharing its per-value cap (characters)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap

    def fit(self, size: int, what: str) -> None:
        if size > self.cap:
            raise Refused(f"would make {what} produce more than {self.cap} characters")

    def table(self) -> dict[str, Callable[..., Any]]:
        return {"b64enc": self.b64enc, "b64dec": self.b64dec, "toJson": self.to_json,
                "toYaml": self.to_yaml, "trim": self.trim, "default": self.default,
                "indent": self.indent, "upper": self.upper, "lower": self.lower,
                "replace": self.replace, "join": self.join, CONCAT: self.concat}

    def b64enc(self, value: object) -> str:
        raw = _values.as_bytes(_text(value, "b64enc"))
        self.fit(4 * ((len(raw) + 2) // 3), "b64enc")
        return base64.b64encode(raw).decode("ascii")

    def b64dec(self, value: object) -> _values.Value:
        """Total: characters outside the alphabet are skipped and padding is implied, because a
        failure here would tell the template's author something about the value."""
        text = "".join(c for c in _text(value, "b64dec") if c in _ALPHABET)
        text = text[: len(text) - (len(text) % 4 == 1)]
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):  # pragma: no cover - unreachable after the above
            raw = b""
        return _values.as_value(raw)

    def to_json(self, value: object) -> str:
        plain = _plain(value, "toJson")
        self.fit(_leaf_chars(plain), "toJson")
        text = json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self.fit(len(text), "toJson")
        return text

    def to_yaml(self, value: object) -> str:
        plain = _plain(value, "toYaml")
        self.fit(_leaf_chars(plain), "toYaml")
        text = yaml.safe_dump(plain, default_flow_style=False, sort_keys=True,
                              allow_unicode=True, width=1 << 20)
        text = text.removesuffix("\n...\n").rstrip("\n")
        self.fit(len(text), "toYaml")
        return text

    def trim(self, value: object) -> str:
        return _text(value, "trim").strip()

    def default(self, value: object, fallback: object = "") -> object:
        """`fallback` when the item is missing (the one place a missing item is fine) or empty."""
        if isinstance(value, jinja2.Undefined) or value == "":
            return fallback
        return value

    def indent(self, value: object, width: object = 4, first: object = False) -> str:
        text = _text(value, "indent")
        if not isinstance(width, int) or isinstance(width, bool) or not 0 <= width <= MAX_INDENT:
            raise Refused(f"uses indent with a width outside 0 to {MAX_INDENT}")
        self.fit(len(text) + width * (text.count("\n") + 1), "indent")
        pad = " " * width
        lines = text.split("\n")
        head = pad + lines[0] if first and lines[0] else lines[0]
        return "\n".join([head, *(pad + line if line else line for line in lines[1:])])

    def upper(self, value: object) -> str:
        return self._checked(_text(value, "upper").upper(), "upper")

    def lower(self, value: object) -> str:
        return self._checked(_text(value, "lower").lower(), "lower")

    def replace(self, value: object, old: object, new: object, count: object = None) -> str:
        text, old_s, new_s = (_text(v, "replace") for v in (value, old, new))
        hits = text.count(old_s) if old_s else len(text) + 1
        if count is not None:
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise Refused("uses replace with a count that is not a non-negative number")
            hits = min(hits, count)
        self.fit(len(text) + hits * (len(new_s) - len(old_s)), "replace")
        return text.replace(old_s, new_s, -1 if count is None else count)

    def join(self, value: object, separator: object = "") -> str:
        if not isinstance(value, list):
            raise Refused("uses join on something other than a list (such as [user, host])")
        sep = _text(separator, "join")
        parts = [_text(part, "join") for part in value]
        self.fit(sum(map(len, parts)) + len(sep) * max(len(parts) - 1, 0), "join")
        return sep.join(parts)

    def concat(self, parts: list[object]) -> str:
        """The `~` operator: every part must be text or a number."""
        texts = [_text(part, "~", numbers=True) for part in parts]
        self.fit(sum(map(len, texts)), "~")
        return "".join(texts)

    def _checked(self, text: str, what: str) -> str:
        self.fit(len(text), what)
        return text


def _text(value: object, what: str, *, numbers: bool = False) -> str:
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, int):
        return str(value)
    if isinstance(value, jinja2.Undefined):
        raise Refused(f"passes a missing item to {what} (use default to allow a missing item)")
    raise Refused(f"passes a {_kind(value)} to {what}, which needs text")


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if value is None:
        return "none"
    return "number" if isinstance(value, int) else "value of another kind"


def _plain(value: object, what: str) -> Any:
    """Text, numbers, booleans, lists and mappings of them (JSON/YAML-encodable)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, list):
        return [_plain(v, what) for v in value]
    if isinstance(value, Mapping):
        return {_text(k, what): _plain(value[k], what) for k in value}
    return _text(value, what)  # raises the right message for Undefined and other kinds


def _leaf_chars(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_leaf_chars(v) for v in value)
    if isinstance(value, dict):
        return sum(len(k) + _leaf_chars(v) for k, v in value.items())
    return 8
