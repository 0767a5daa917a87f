"""Parameter types both CLIs share: durations, the output format, and the exit-code table.

`seal` and `sealops` (which imports this module) take durations through `DURATION` (the one
parser, `sealer.durations`), so `--timeout 5m` reads the same in both, and document the same
exit codes (`EXIT_CODES`, printed in both `--help` epilogs and in the README). `OutputFormat`
is `-o/--format` as kubeseal means it: `-o yaml` is a format, never a file name; a value that
looks like a file is refused with the option that writes files (`-w`), so that
`seal secret -o sealed.yaml` cannot quietly write what the user did not ask for.
Imports only click and the standard library at module level, like every command module.
"""

from __future__ import annotations

import datetime
from typing import Any

import click

__all__ = ["DURATION", "EXIT_CODES", "EXIT_CODES_EPILOG", "SECONDS_OR_DURATION", "Duration",
           "OutputFormat"]

FORMATS = ("yaml", "json")

# One table for both CLIs: (code, meaning). `sealer.errors` draws the same codes per class.
EXIT_CODES = (
    (0, "success"),
    (1, "the answer is no: seal check found problems, seal verify a SealedSecret the "
        "controller cannot open, sealops diff changes pending; or an error of no class below"),
    (2, "usage: a bad option, argument or combination, or a refused environment variable"),
    (3, "manifest: unreadable YAML/JSON or a malformed object (sync: the render failed)"),
    (4, "key material: a bad certificate, key file, key Secret or backup"),
    (5, "unseal: a value that no key opens for its scope"),
    (6, "policy: input refused on purpose (plaintext Secret, oversized value, mass prune)"),
    (7, "cluster: kubeconfig, API server, controller, Git or Vault failed; a retry may help"),
    (130, "interrupted (Ctrl-C)"),
)


def _short(code: int, meaning: str) -> str:
    import textwrap  # lazy: the test of command modules allows few top-level imports

    return "\n".join(textwrap.wrap(meaning, width=78, initial_indent=f"  {code:<4} ",
                                    subsequent_indent=" " * 7))


EXIT_CODES_EPILOG = "\b\nExit codes:\n" + "\n".join(_short(c, m) for c, m in EXIT_CODES)


class Duration(click.ParamType):  # type: ignore[type-arg]
    """`5m`, `1h30m`, `45s`, `0`; with `bare_seconds`, also `300` (the old `--timeout 300`)."""

    name = "duration"

    def __init__(self, *, bare_seconds: bool = False) -> None:
        self.bare_seconds = bare_seconds

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime.timedelta:
        if isinstance(value, datetime.timedelta):
            return value
        from sealer import durations  # lazy, like every library import of a command module

        try:
            return durations.parse(str(value), bare_seconds=self.bare_seconds)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()
SECONDS_OR_DURATION = Duration(bare_seconds=True)  # for options that took plain seconds


class OutputFormat(click.Choice):  # type: ignore[type-arg]
    """`yaml` or `json`; a file name given to `-o` is refused, naming the option for files."""

    def __init__(self, *, file_option: str) -> None:
        super().__init__(FORMATS, case_sensitive=False)
        self.file_option = file_option

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.lower() not in FORMATS and _looks_like_file(value):
            self.fail(
                f"{value!r} is not an output format: -o/--format is the format (yaml or json), "
                f"as in kubeseal; to write the file, use {self.file_option} {value}",
                param, ctx)
        return super().convert(value, param, ctx)


def _looks_like_file(value: str) -> bool:
    import os  # lazy: only on the error path

    return any(ch in value for ch in "./\\") or os.path.lexists(value)
