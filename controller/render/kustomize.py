"""Rendering a Kustomize overlay with `kustomize build` or `kubectl kustomize`, fenced in.

kustomize reads the filesystem and fetches URLs itself, so before it runs:
1. the whole checkout is scanned for out-of-bounds or looping symlinks (kustomize follows them)
   and for FIFOs, sockets and devices (kustomize would block on or read them);
2. every kustomization kustomize would read is checked by `kustomization.check_tree`: no field
   that names a file or directory may be a URL of any scheme or a remote reference, or lead
   outside the checkout (resources, generators, patches, configMapGenerator files, openapi,
   crds, ...); Helm charts and non-builtin plugins are refused.
Then it runs without a shell, with a timeout and an output cap, `--load-restrictor
LoadRestrictionsRootOnly`, no plugin, exec-function or Helm flags, an empty PATH (no `git` for
remote bases), proxies pointed at a closed local port (Go never proxies loopback, hence 2.), a
throwaway HOME and, where the kernel allows unprivileged user namespaces, in a new empty
network namespace (`network_sandbox`): no route to anything, loopback included.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from controller.render import documents, errors, kustomization, limits, paths
from controller.sources import proc

__all__ = ["KUSTOMIZATION_FILES", "check_references", "command", "find_kustomization",
           "network_sandbox", "render"]

logger = logging.getLogger(__name__)

KUSTOMIZATION_FILES = kustomization.KUSTOMIZATION_FILES
_CLOSED_PORT_PROXY = "http://127.0.0.1:9"
_MAX_MESSAGE = 300
_KLOG_PREFIX = re.compile(r"^[EIWF]\d{4} [\d:.]+\s+\d+ [^\]]*\] ", re.MULTILINE)
_QUOTED_CONFIG = re.compile(r"`[^`]*`", re.DOTALL)


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
    kustomization.check_tree(root_real, directory, caps=caps)
    rel = paths.relative(root_real, directory)
    output = _build(root_real, directory, caps=caps)
    return documents.parse(
        output, source=f"kustomize build {rel}", budget=caps, max_bytes=caps.max_total_bytes
    )


# Kept for callers of the earlier names; the checks live in `kustomization`.
find_kustomization = kustomization.find_kustomization
check_references = kustomization.check_tree


@functools.cache
def network_sandbox() -> tuple[str, ...]:
    """The argv prefix that runs a child without any network, or () where it cannot work.

    `unshare --user --map-root-user --net` gives the child a new network namespace holding only
    a loopback interface that is down, so not even the host's loopback services are reachable.
    Probed once per process; containers whose seccomp profile forbids user namespaces get ()
    and rely on the checks of `kustomization`, which refuse every URL before kustomize runs.
    """
    unshare = shutil.which("unshare")
    true = shutil.which("true")
    if unshare is None or true is None:
        logger.info("kustomize runs without a network sandbox: unshare is not installed")
        return ()
    prefix = (unshare, "--user", "--map-root-user", "--net", "--")
    try:
        probe = proc.run([*prefix, true], env={"PATH": ""}, timeout=10.0, max_stdout=1024)
    except (proc.Timeout, OSError):
        probe = None
    if probe is None or probe.returncode != 0:
        logger.info("kustomize runs without a network sandbox: no user namespaces here")
        return ()
    return prefix


def _build(root_real: str, directory: str, *, caps: limits.Limits) -> bytes:
    argv = [*network_sandbox(), *command(directory)]
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
