"""How `sealops` logs: `--log-format text|json` and `--log-level`, set up once by the CLI.

`json` writes one object per line (`time`, `level`, `logger`, `message`, and `object` when
kopf names the resource it logs for), for log collectors that parse JSON; `text` is the
classic `time LEVEL logger: message`. Messages are the same in both formats: they name
objects, never values (the canary sweeps read these logs).
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

__all__ = ["FORMATS", "LEVELS", "JsonFormatter", "configure"]

FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record; exceptions as their formatted traceback under `error`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        k8s = getattr(record, "k8s_ref", None)  # kopf's per-object loggers set this
        if isinstance(k8s, dict):
            entry["object"] = {k: k8s[k] for k in ("kind", "namespace", "name") if k in k8s}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler `configure` installs; only ours is replaced on a second call, so a
    host's handlers (pytest's capture, an embedding program's) are left alone."""


def configure(*, log_format: str = "text", level: str = "info") -> None:
    """One stderr handler on the root logger, in `log_format`, at `level`."""
    handler = _Handler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
