"""Durations as both CLIs and every spec field take them: Go-style `720h`, `5m`, `1h30m`.

The one parser of the project: `seal` options, `sealops` options, `controller.settings` and
the CRD fields (GitSync `spec.interval`, VaultSecret `spec.refreshInterval`) all call `parse`,
so `5m` means the same everywhere. It lives in the library (standard library only) because
`sealer` may not import `controller`.

Grammar: one or more `<number><unit>` parts, units `d`, `h`, `m`, `s`, `ms`; or `0`. A bare
number other than `0` is refused unless `bare_seconds=True` (command-line options that used
to take plain seconds, like `--timeout 300`, keep accepting them, as kubectl's
`--request-timeout` does).
"""

from __future__ import annotations

import datetime
import re

__all__ = ["parse"]

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|d|h|m|s)")
_BARE = re.compile(r"\d+(?:\.\d+)?")
_HINT = "use e.g. 720h, 5m, 1h30m, 45s"


def parse(text: str, *, bare_seconds: bool = False) -> datetime.timedelta:
    """The duration `text` names; `ValueError` (naming the text, which is no secret) if none."""
    text = text.strip()
    if text in ("0", ""):  # "" as before: an empty spec field means "not periodic"
        return datetime.timedelta(0)
    if bare_seconds and _BARE.fullmatch(text):
        return datetime.timedelta(seconds=float(text))
    total, position = 0.0, 0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(text):
        if _BARE.fullmatch(text) or re.search(r"\d$", text):
            raise ValueError(f"invalid duration {text[:40]!r}: a number needs a unit "
                             f"(h, m, s); {_HINT}")
        raise ValueError(f"invalid duration {text[:40]!r}; {_HINT}")
    return datetime.timedelta(seconds=total)
