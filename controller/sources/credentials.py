"""Git credentials and the short-lived files that hand them to git.

HTTP(S): an askpass helper (a 0700 script in a private 0700 directory) echoes the username and
password from environment variables, so the secret lives only in the git child's environment:
never in argv, a URL, a file or a log. SSH: the identity and known_hosts are written 0600 in
the same private directory, used through `GIT_SSH_COMMAND` with strict host-key checking, and
removed with the directory when the git call ends.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from controller.sources import errors

__all__ = ["Credentials", "Materialized", "materialize", "ssh_command"]

USERNAME_ENV = "SEALOPS_GIT_USERNAME"
PASSWORD_ENV = "SEALOPS_GIT_PASSWORD"  # noqa: S105 - the name of a variable, not a value
DEFAULT_TOKEN_USERNAME = "git"  # noqa: S105 - a username, not a password

_ASKPASS = f"""#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "${USERNAME_ENV}" ;;
  *) printf '%s\\n' "${PASSWORD_ENV}" ;;
esac
"""


@dataclass(frozen=True, repr=False, eq=False)
class Credentials:
    """What a source's secretRef holds. Its repr never shows a value."""

    username: str | None = None
    password: str | None = None
    ssh_private_key: bytes | None = None
    ssh_known_hosts: bytes | None = None

    def __post_init__(self) -> None:
        for label, value in (("username", self.username), ("password", self.password)):
            if value is not None and any(c in value for c in "\r\n\x00"):
                raise errors.SourceRefusedError(
                    f"credentials: the {label} must not contain line breaks or NUL"
                )
        if self.password is not None and self.username is None:
            object.__setattr__(self, "username", DEFAULT_TOKEN_USERNAME)

    def __repr__(self) -> str:
        held = [
            name
            for name in ("username", "password", "ssh_private_key", "ssh_known_hosts")
            if getattr(self, name) is not None
        ]
        return f"<Credentials holding {', '.join(held) or 'nothing'}>"

    @classmethod
    def from_secret_data(cls, data: Mapping[str, bytes]) -> Credentials:
        """Read Flux-style keys: `username`, `password` (or `token`), `identity`, `known_hosts`."""
        password = _text(data, "password") or _text(data, "token")
        return cls(
            username=_text(data, "username"),
            password=password,
            ssh_private_key=data.get("identity"),
            ssh_known_hosts=data.get("known_hosts"),
        )

    def secret_values(self) -> tuple[str, ...]:
        """Values that must be scrubbed from any text git prints."""
        return (self.password,) if self.password else ()


@dataclass(frozen=True)
class Materialized:
    """The private directory and the environment entries git needs for one call."""

    home: Path
    env: Mapping[str, str]


@contextmanager
def materialize(creds: Credentials | None, *, connect_timeout: int = 30) -> Iterator[Materialized]:
    """A private 0700 directory (git's HOME) holding the credential files; removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="sealops-git-"))
    try:
        env: dict[str, str] = {}
        identity = known_hosts = None
        if creds is not None and creds.password is not None:
            askpass = _write(home / "askpass", _ASKPASS.encode("ascii"), mode=0o700)
            env.update(
                {"GIT_ASKPASS": str(askpass), USERNAME_ENV: creds.username or "",
                 PASSWORD_ENV: creds.password}
            )
        if creds is not None and creds.ssh_private_key is not None:
            identity = _write(home / "identity", _with_newline(creds.ssh_private_key), mode=0o600)
        if creds is not None and creds.ssh_known_hosts is not None:
            known_hosts = _write(home / "known_hosts", creds.ssh_known_hosts, mode=0o600)
        env["GIT_SSH_COMMAND"] = ssh_command(
            identity=identity, known_hosts=known_hosts, connect_timeout=connect_timeout
        )
        env["GIT_SSH_VARIANT"] = "ssh"
        yield Materialized(home=home, env=env)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def ssh_command(*, identity: Path | None, known_hosts: Path | None, connect_timeout: int) -> str:
    """The `GIT_SSH_COMMAND` value (git runs it through a shell, so every path is quoted).

    Without known_hosts every host key is unknown, and strict checking refuses it.
    """
    argv = [
        "ssh", "-F", "/dev/null",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known_hosts or '/dev/null'}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", f"ConnectTimeout={int(connect_timeout)}",
        "-o", "IdentitiesOnly=yes",
        "-o", "PasswordAuthentication=no",
        "-o", "KbdInteractiveAuthentication=no",
    ]
    if identity is not None:
        argv += ["-i", str(identity)]
    return " ".join(shlex.quote(arg) for arg in argv)


def _write(path: Path, content: bytes, *, mode: int) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return path


def _with_newline(key: bytes) -> bytes:
    # OpenSSH refuses a private key file whose last line has no line break.
    return key if key.endswith(b"\n") else key + b"\n"


def _text(data: Mapping[str, bytes], key: str) -> str | None:
    raw = data.get(key)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.SourceRefusedError(f"credentials: key {key!r} is not UTF-8") from None
