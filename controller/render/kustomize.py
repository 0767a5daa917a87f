"""Rendering a Kustomize overlay with `kustomize build` or `kubectl kustomize`, fenced in.

kustomize reads the filesystem itself, so before it runs:
1. the whole checkout is scanned for out-of-bounds or looping symlinks (kustomize follows them)
   and for FIFOs, sockets and devices (kustomize would block on or read them);
2. every kustomization reachable through `resources`, `bases` and `components` is read with the
   safe loader and each entry must resolve, through `paths.resolve_within`, to a file or
   directory inside the checkout: absolute paths, `..` above the root and remote references
   (URLs, `git@`, anything not found locally) are refused.
Then it runs without a shell, with a timeout and an output cap, `--load-restrictor
LoadRestrictionsRootOnly`, no plugin, exec-function or Helm flags, an empty PATH (no `git` for
remote bases), proxies pointed at a closed local port and a throwaway HOME.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

from controller.render import documents, errors, limits, paths
from controller.sources import proc
from sealer.manifests import safeyaml

__all__ = ["KUSTOMIZATION_FILES", "command", "find_kustomization", "render"]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REFERENCE_FIELDS = ("resources", "bases", "components")
_MAX_KUSTOMIZATIONS = 1000
_CLOSED_PORT_PROXY = "http://127.0.0.1:9"
_MAX_MESSAGE = 300
_KLOG_PREFIX = re.compile(r"^[EIWF]\d{4} [\d:.]+\s+\d+ [^\]]*\] ", re.MULTILINE)
_QUOTED_CONFIG = re.compile(r"`[^`]*`", re.DOTALL)


def find_kustomization(root_real: str, directory: str) -> str | None:
    """The real path of `directory`'s kustomization file, if it has a regular one.

    A directory that happens to be named `kustomization.yaml` does not count.
    """
    for name in KUSTOMIZATION_FILES:
        try:
            real = paths.resolve_within(root_real, directory, [name])
        except errors.MissingPathError:
            continue
        mode = paths.lstat(root_real, real).st_mode
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode):
            raise errors.RenderError(f"{paths.relative(root_real, real)}: not a regular file")
        return real
    return None


def command(directory: str) -> list[str]:
    """argv for whichever of `kustomize` and `kubectl` is on PATH."""
    kustomize = shutil.which("kustomize")
    if kustomize is not None:
        return [kustomize, "build", "--load-restrictor", "LoadRestrictionsRootOnly", directory]
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        return [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsRootOnly", directory]
    raise errors.RenderError(
        "the path holds a kustomization but neither kustomize nor kubectl is installed"
    )


def render(root_real: str, directory: str, *, caps: limits.Limits) -> list[dict[str, Any]]:
    """The objects `kustomize build` produces for `directory`, each checked."""
    paths.scan_checkout(root_real, max_entries=caps.max_entries)
    check_references(root_real, directory, caps=caps)
    rel = paths.relative(root_real, directory)
    output = _build(root_real, directory, caps=caps)
    return documents.parse(
        output, source=f"kustomize build {rel}", budget=caps, max_bytes=caps.max_total_bytes
    )


def check_references(root_real: str, directory: str, *, caps: limits.Limits) -> None:
    """Refuse any reachable kustomization entry that is remote or leaves the checkout."""
    queue = deque([directory])
    seen: set[str] = set()
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        if len(seen) > _MAX_KUSTOMIZATIONS:
            raise errors.RenderError(f"more than {_MAX_KUSTOMIZATIONS} kustomizations")
        kfile = find_kustomization(root_real, current)
        if kfile is None:
            continue
        for entry in _references(root_real, kfile, caps=caps):
            target = _resolve_reference(root_real, current, entry, kfile=kfile)
            if os.path.isdir(target):
                queue.append(target)


def _references(root_real: str, kfile: str, *, caps: limits.Limits) -> list[str]:
    rel = paths.relative(root_real, kfile)
    data = paths.read_regular(root_real, kfile, max_bytes=caps.max_file_bytes)
    docs = safeyaml.load_documents(data, source=rel, max_bytes=caps.max_file_bytes,
                                   max_documents=1, max_depth=caps.max_depth)
    found: list[str] = []
    for doc in docs:
        for field in _REFERENCE_FIELDS:
            entries = doc.get(field) or []
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise errors.RenderError(f"{rel}: {field} must be a list of strings")
            found.extend(entries)
    return found


def _resolve_reference(root_real: str, directory: str, entry: str, *, kfile: str) -> str:
    rel = paths.relative(root_real, kfile)
    what = f"kustomize reference {ascii(entry)[:100]} in {rel}"
    if "://" in entry or "@" in entry or "?" in entry or entry.startswith("git::"):
        raise errors.RenderError(f"remote {what} is not allowed")
    if entry.startswith("/") or "\\" in entry or "\x00" in entry:
        raise errors.PathEscapeError(f"out of bounds {what}")
    try:
        return paths.resolve_within(root_real, directory, entry.split("/"), via=what)
    except errors.MissingPathError:
        raise errors.RenderError(
            f"{what} not found in the checkout (remote resources are not allowed)"
        ) from None


def _build(root_real: str, directory: str, *, caps: limits.Limits) -> bytes:
    argv = command(directory)
    home = tempfile.mkdtemp(prefix="sealops-kustomize-")
    env = {
        "PATH": "",
        "HOME": home,
        "XDG_CONFIG_HOME": home,
        "KUBECONFIG": os.devnull,
        "HTTPS_PROXY": _CLOSED_PORT_PROXY,
        "HTTP_PROXY": _CLOSED_PORT_PROXY,
        "https_proxy": _CLOSED_PORT_PROXY,
        "http_proxy": _CLOSED_PORT_PROXY,
        "GIT_ALLOW_PROTOCOL": "none",
        "LC_ALL": "C",
    }
    try:
        result = proc.run(argv, env=env, timeout=caps.kustomize_timeout,
                          max_stdout=caps.max_total_bytes, cwd=Path(directory))
    except proc.Timeout:
        raise errors.RenderError(
            f"kustomize build timed out after {caps.kustomize_timeout:g}s"
        ) from None
    except proc.OutputTooLarge:
        raise errors.RenderError(
            f"kustomize build printed more than {caps.max_total_bytes} bytes"
        ) from None
    except OSError as exc:
        raise errors.RenderError(f"cannot run kustomize: {exc.strerror}") from None
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if result.returncode != 0:
        raise errors.RenderError(f"kustomize build failed: {_explain(root_real, result.stderr)}")
    return result.stdout


def _explain(root_real: str, stderr: bytes) -> str:
    """kustomize's error on one line: klog framing and quoted plugin configs (which may hold
    secretGenerator literals) removed, the checkout path made relative, truncated."""
    text = stderr.decode("utf-8", "replace")
    text = _KLOG_PREFIX.sub("", text)
    text = _QUOTED_CONFIG.sub("`...`", text)
    text = " ".join(text.split()).replace('"command failed" err=<', "").rstrip(" >")
    text = text.replace(root_real + "/", "").replace(root_real, ".").strip() or "no error output"
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= _MAX_MESSAGE else "..." + text[-(_MAX_MESSAGE - 3) :]
