"""Git credentials and the short-lived files that hand them to git.

HTTP(S): an askpass helper (a 0700 script in a private 0700 directory) echoes the username and
password from environment variables, so the secret lives only in the git child's environment:
never in argv, a URL, a file or a log. The helper is bound to the source's origin: git asks
`Username for '<scheme>://<host[:port]>': ` and `Password for '<scheme>://<user>@<host[:port]>': `
(with `credential.useHttpPath=false`), and the helper answers only those two exact prompts,
computed from the source URL. A prompt for any other scheme, host or port (a redirect that git
followed, a second remote) gets no answer, so credentials never reach another host.

SSH: the identity and known_hosts are written 0600 in the same private directory, used through
`GIT_SSH_COMMAND` with strict host-key checking, and removed with the directory when the git
call ends.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from controller.sources import errors

__all__ = ["Credentials", "Materialized", "askpass_prompts", "materialize", "ssh_command"]

USERNAME_ENV = "SEALOPS_GIT_USERNAME"
PASSWORD_ENV = "SEALOPS_GIT_PASSWORD"  # noqa: S105 - the name of a variable, not a value
DEFAULT_TOKEN_USERNAME = "git"  # noqa: S105 - a username, not a password

USERNAME_PROMPT_ENV = "SEALOPS_GIT_USERNAME_PROMPT"
PASSWORD_PROMPT_ENV = "SEALOPS_GIT_PASSWORD_PROMPT"  # noqa: S105 - a variable name

_ASKPASS = f"""#!/bin/sh
if [ "$1" = "${USERNAME_PROMPT_ENV}" ]; then
  printf '%s\\n' "${USERNAME_ENV}"
elif [ "$1" = "${PASSWORD_PROMPT_ENV}" ]; then
  printf '%s\\n' "${PASSWORD_ENV}"
else
  echo "sealops askpass: no credentials for a host other than the source URL's" >&2
  exit 1
fi
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
def materialize(creds: Credentials | None, *, url: str,
                connect_timeout: int = 30) -> Iterator[Materialized]:
    """A private 0700 directory (git's HOME) holding the credential files; removed afterwards.

    The askpass helper answers only for the origin of `url` (module docstring)."""
    home = Path(tempfile.mkdtemp(prefix="sealops-git-"))
    try:
        env: dict[str, str] = {}
        identity = known_hosts = None
        if creds is not None and creds.password is not None:
            askpass = _write(home / "askpass", _ASKPASS.encode("ascii"), mode=0o700)
            username_prompt, password_prompt = askpass_prompts(url, username=creds.username or "")
            env.update(
                {"GIT_ASKPASS": str(askpass), USERNAME_ENV: creds.username or "",
                 PASSWORD_ENV: creds.password, USERNAME_PROMPT_ENV: username_prompt,
                 PASSWORD_PROMPT_ENV: password_prompt}
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


def askpass_prompts(url: str, *, username: str) -> tuple[str, str]:
    """The exact username and password prompts git shows for `url`'s origin.

    git builds them from the URL as written (scheme and host[:port] verbatim, no path when
    `credential.useHttpPath` is false); a URL that is not `scheme://host...` gets prompts no
    git would show, so the helper never answers.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return "\x00", "\x00"
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return (f"Username for '{scheme}://{host}': ",
            f"Password for '{scheme}://{username}@{host}': ")


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
