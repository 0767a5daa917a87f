"""Running the `git` CLI safely: a fixed environment, hardening flags and scrubbed errors.

Every call gets: no shell; a private HOME with no global or system config; no terminal
prompts; hooks, submodule recursion, credential helpers, LFS and other attribute filters
switched off; an explicit protocol allow-list (`file` only when local sources are allowed).
A failure becomes `FetchError` carrying the redacted URL and git's last stderr line with the
URL and every secret value scrubbed out.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from controller.sources import credentials, errors, proc, urls

__all__ = ["Deadline", "Git", "hardening_args", "session"]

_PASSED_THROUGH = (
    "PATH", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "SSL_CERT_FILE", "SSL_CERT_DIR",
    "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
)
_MAX_MESSAGE = 300
_REDIRECT = re.compile(r"returned error: (30[0-8])\b")


def hardening_args(*, allow_local: bool, transport: str) -> list[str]:
    """`-c` options placed before every git subcommand.

    Only the source URL's own transport is allowed, so a redirect cannot downgrade an https
    source to http or move it to another protocol; `file` never unless local sources are.
    HTTP redirects are not followed at all (`http.followRedirects=false`; git's default
    follows the first one, to any host): a redirect fails the call with `FetchError`, and the
    askpass helper answers only for the source's own origin (`credentials`).
    """
    config = {
        "core.hooksPath": "/dev/null",
        "core.fsmonitor": "false",
        "core.autocrlf": "false",
        "core.symlinks": "true",
        "submodule.recurse": "false",
        "fetch.recurseSubmodules": "false",
        "credential.helper": "",
        "credential.useHttpPath": "false",
        "http.followRedirects": "false",
        "filter.lfs.smudge": "",
        "filter.lfs.process": "",
        "filter.lfs.required": "false",
        "protocol.allow": "never",
        **{f"protocol.{name}.allow": "never" for name in ("https", "http", "ssh", "file")},
        "gc.auto": "0",
        "maintenance.auto": "false",
        "advice.detachedHead": "false",
        "init.defaultBranch": "main",
        "http.lowSpeedLimit": "1",
        "http.lowSpeedTime": "60",
    }
    if transport in ("https", "http", "ssh") or (transport == "file" and allow_local):
        config[f"protocol.{transport}.allow"] = "always"
    args: list[str] = []
    for key, value in config.items():
        args += ["-c", f"{key}={value}"]
    return args


@dataclass
class Deadline:
    """One wall-clock budget shared by the several git calls of a fetch."""

    seconds: float
    _end: float = field(init=False)

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError("timeout must be positive")
        self._end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()


@dataclass
class Git:
    """A git runner bound to one source URL, its secrets and a private HOME."""

    url: str
    allow_local: bool
    deadline: Deadline
    env: Mapping[str, str]
    secrets: tuple[str, ...] = ()
    _binary: str = field(default="", init=False)

    def __post_init__(self) -> None:
        found = shutil.which("git", path=self.env.get("PATH"))
        if found is None:
            raise errors.FetchError("git is not installed on this machine")
        self._binary = found

    def run(
        self,
        args: Sequence[str],
        *,
        action: str,
        extra_env: Mapping[str, str] | None = None,
        max_stdout: int = 16 << 20,
    ) -> bytes:
        """Run `git <hardening> <args>`; raise `FetchError` on failure, timeout or huge output."""
        hardening = hardening_args(allow_local=self.allow_local,
                                   transport=urls.transport_of(self.url))
        argv = [self._binary, *hardening, *args]
        env = {**self.env, **(extra_env or {})}
        shown = urls.redact_url(self.url)
        try:
            result = proc.run(argv, env=env, timeout=self.deadline.remaining(),
                              max_stdout=max_stdout)
        except proc.Timeout:
            raise errors.FetchError(
                f"{action} of {shown} timed out after {self.deadline.seconds:g}s"
            ) from None
        except proc.OutputTooLarge:
            raise errors.FetchError(f"{action} of {shown}: git printed too much output") from None
        except OSError as exc:
            raise errors.FetchError(
                f"{action} of {shown}: cannot run git: {exc.strerror}"
            ) from None
        if result.returncode != 0:
            raise errors.FetchError(f"{action} of {shown} failed: {self.explain(result.stderr)}")
        return result.stdout

    def explain(self, stderr: bytes) -> str:
        """git's last meaningful stderr line, scrubbed of the URL and every secret."""
        lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
        lines = [line for line in lines if line and not line.startswith("hint:")]
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        last = (fatal or lines or ["git exited with an error and no message"])[-1]
        redirect = _REDIRECT.search(last)
        if redirect is not None:
            return (f"the server answered with a redirect (HTTP {redirect.group(1)}); "
                    "redirects are never followed: put the final URL in the source")
        text = urls.scrub_text(last, url=self.url, secrets=self.secrets)
        return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


@contextlib.contextmanager
def session(
    url: str,
    *,
    creds: credentials.Credentials | None,
    timeout: float,
    allow_local: bool,
) -> Iterator[Git]:
    """A `Git` with its credential files in place for the duration of the block."""
    deadline = Deadline(timeout)
    with credentials.materialize(creds, url=url, connect_timeout=max(1, int(timeout))) as files:
        yield Git(
            url=url,
            allow_local=allow_local,
            deadline=deadline,
            env=_environment(files),
            secrets=creds.secret_values() if creds is not None else (),
        )


def _environment(files: credentials.Materialized) -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env.setdefault("PATH", os.defpath)
    home = str(files.home)
    env.update(
        {
            "HOME": home,
            "XDG_CONFIG_HOME": str(Path(home) / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_LFS_SKIP_SMUDGE": "1",
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_OPTIONAL_LOCKS": "0",
            "LC_ALL": "C",
            "LANG": "C",
        }
    )
    env.update(files.env)
    return env
