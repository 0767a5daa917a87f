"""What a kubeconfig says, read without the `kubernetes` package: files, contexts, namespace.

Two callers: `seal secret` takes the namespace of the kubeconfig context for a Secret that
names none (kubeseal does), without loading any cluster client; and `sealer.kube.config`
checks a kubeconfig first so that its errors name the missing file or the unknown context
(kubectl: `context "x" does not exist`) instead of the loader's exception type.

Files are looked up as kubectl does: `--kubeconfig`, else every file of `$KUBECONFIG` (missing
ones ignored), else `~/.kube/config`; the first file naming a current context wins, and the
first file defining a context defines it. Only names are read here (contexts, clusters'
server URLs, namespaces); credentials are never looked at and never end up in a message.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sealer import _files, errors

__all__ = ["DEFAULT_NAMESPACE", "Kubeconfig", "Selected", "UnreadableKubeconfig", "files",
           "read", "select"]

DEFAULT_NAMESPACE = "default"
MAX_BYTES = 4 << 20


class UnreadableKubeconfig(errors.ClusterError):
    """A kubeconfig file this reader cannot parse (the full loader may still manage)."""


@dataclasses.dataclass(frozen=True)
class Kubeconfig:
    """The merged names of the kubeconfig files found (none: `paths` is empty)."""

    paths: tuple[Path, ...]
    current_context: str | None
    contexts: Mapping[str, Mapping[str, Any]]
    servers: Mapping[str, str]  # cluster name -> server URL


@dataclasses.dataclass(frozen=True)
class Selected:
    """The context in use, its namespace and server, and a phrase saying where they came from."""

    context: str | None
    namespace: str
    server: str | None
    source: str


def files(kubeconfig: str | None = None) -> tuple[Path, ...]:
    """The kubeconfig files to read; an explicit `kubeconfig` that is missing is an error."""
    if kubeconfig:
        path = Path(kubeconfig).expanduser()
        if not path.is_file():
            raise errors.ClusterError(f"kubeconfig {kubeconfig}: no such file")
        return (path,)
    listed = os.environ.get("KUBECONFIG")
    if listed:
        candidates = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
    else:
        candidates = [Path("~/.kube/config").expanduser()]
    return tuple(p for p in candidates if p.is_file())


def read(kubeconfig: str | None = None) -> Kubeconfig:
    """The merged kubeconfig (`ClusterError` naming a file that cannot be read or parsed)."""
    paths = files(kubeconfig)
    current: str | None = None
    contexts: dict[str, Mapping[str, Any]] = {}
    servers: dict[str, str] = {}
    for path in paths:
        doc = _load(path)
        if current is None and isinstance(doc.get("current-context"), str) \
                and doc["current-context"]:
            current = doc["current-context"]
        for entry in _named(doc, "contexts", path):
            contexts.setdefault(entry[0], entry[1].get("context") or {})
        for name, cluster in _named(doc, "clusters", path):
            server = (cluster.get("cluster") or {}).get("server")
            if isinstance(server, str):
                servers.setdefault(name, server)
    return Kubeconfig(paths=paths, current_context=current, contexts=contexts, servers=servers)


def select(kubeconfig: str | None = None, context: str | None = None) -> Selected:
    """The context `context` (else the current one); `ClusterError` if it does not exist."""
    config = read(kubeconfig)
    where = ", ".join(str(p) for p in config.paths) or "no kubeconfig file found"
    name = context or config.current_context
    if name is None:
        return Selected(context=None, namespace=DEFAULT_NAMESPACE, server=None,
                        source=f"the default: no current context ({where})")
    found = config.contexts.get(name)
    if found is None:
        given = "--context" if context else "current-context"
        raise errors.ClusterError(
            f'kubeconfig context "{name}" ({given}) does not exist in {where}; '
            f"contexts: {', '.join(sorted(config.contexts)) or 'none'}")
    namespace = found.get("namespace")
    cluster = found.get("cluster")
    server = config.servers.get(cluster) if isinstance(cluster, str) else None
    if isinstance(namespace, str) and namespace:
        return Selected(context=name, namespace=namespace, server=server,
                        source=f'the namespace of kubeconfig context "{name}"')
    return Selected(context=name, namespace=DEFAULT_NAMESPACE, server=server,
                    source=f'the default: kubeconfig context "{name}" names no namespace')


def _load(path: Path) -> Mapping[str, Any]:
    from sealer.manifests import safeyaml  # lazy: YAML is loaded only when a file is read

    data = _files.read_regular(path, max_bytes=MAX_BYTES, error=errors.ClusterError,
                               what="kubeconfig ")
    try:
        doc = safeyaml.load_one(data, source=str(path)) if data.strip() else {}
    except errors.ManifestError:
        # The parser's message may quote the file, and a kubeconfig holds credentials.
        raise UnreadableKubeconfig(f"kubeconfig {path} is not valid YAML") from None
    if not isinstance(doc, Mapping):
        raise UnreadableKubeconfig(f"kubeconfig {path} is not a mapping")
    return doc


def _named(doc: Mapping[str, Any], key: str, path: Path) -> list[tuple[str, Mapping[str, Any]]]:
    entries = doc.get(key) or []
    if not isinstance(entries, list):
        raise UnreadableKubeconfig(f"kubeconfig {path}: {key} is not a list")
    return [(e["name"], e) for e in entries
            if isinstance(e, Mapping) and isinstance(e.get("name"), str)]
