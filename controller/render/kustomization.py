"""What a kustomization may name: every file and directory reference, checked before kustomize
runs (HOSTILE-INPUTS F28/F30; issue 10 item 6). Called by `kustomize.render`.

Starting at the configured path, every kustomization kustomize would read is loaded with the
safe loader: those reached through `resources`, `bases` and `components`, and those of
directories named by `generators`, `transformers` and `validators`. In each one, every field
that names a file or directory is checked:

    resources bases components              must exist inside the checkout (a name that does
                                            not exist locally is what kustomize fetches)
    generators transformers validators      inline configs, files or directories; every plugin
                                            config must be `apiVersion: builtin` (plugins are
                                            off) and its own file fields are checked too
    configMapGenerator secretGenerator      `files` (`[key=]path`), `envs`, `env`
    patches patchesJson6902 replacements    `path`
    patchesStrategicMerge crds              paths (patchesStrategicMerge may be inline)
    configurations openapi.path
    helmCharts helmGlobals                  refused: Helm inflation downloads charts

A value that is a URL of any scheme (`http://127.0.0.1/...`, `file://`, `git::`, `ssh:`), an
scp-like `git@host:path`, or carries a query (`?ref=`) is refused with a `RenderError` naming
the kustomization file and the field, before anything is run or fetched. A path is refused
when it is absolute or climbs above the checkout root, directly or through a symlink
(`paths.resolve_within`). kustomize itself keeps files inside each kustomization's directory
(`--load-restrictor LoadRestrictionsRootOnly`) and runs without network (`kustomize`).
"""

from __future__ import annotations

import os
import re
import stat
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.render import errors, limits, paths
from controller.sources import urls
from sealer import errors as sealer_errors
from sealer.manifests import safeyaml

__all__ = ["KUSTOMIZATION_FILES", "check_tree", "find_kustomization"]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_KUSTOMIZATIONS = 1000
BUILTIN = "builtin"
_REFERENCE_FIELDS = ("resources", "bases", "components")
_PLUGIN_FIELDS = ("generators", "transformers", "validators")
_FILE_LIST_FIELDS = ("crds", "configurations")
_PATH_ITEM_FIELDS = ("patches", "patchesJson6902", "replacements")
_GENERATOR_FIELDS = ("configMapGenerator", "secretGenerator")
_HELM_FIELDS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_SCP_LIKE = re.compile(r"^[^/:]*@[^/:]+:")


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


@dataclass
class _Walk:
    root_real: str
    caps: limits.Limits
    pending: deque[tuple[str, bool]] = field(default_factory=deque)
    seen: set[tuple[str, bool]] = field(default_factory=set)

    def load(self, real: str, *, max_documents: int) -> list[Any]:
        rel = paths.relative(self.root_real, real)
        data = paths.read_regular(self.root_real, real, max_bytes=self.caps.max_file_bytes)
        return safeyaml.load_documents(data, source=rel, max_bytes=self.caps.max_file_bytes,
                                       max_documents=max_documents,
                                       max_depth=self.caps.max_depth)


def check_tree(root_real: str, directory: str, *, caps: limits.Limits) -> None:
    """Refuse any reachable kustomization that names a URL or a path outside the checkout."""
    walk = _Walk(root_real, caps)
    walk.pending.append((directory, False))
    while walk.pending:
        current, plugins = walk.pending.popleft()
        if (current, plugins) in walk.seen:
            continue
        walk.seen.add((current, plugins))
        if len(walk.seen) > MAX_KUSTOMIZATIONS:
            raise errors.RenderError(f"more than {MAX_KUSTOMIZATIONS} kustomizations")
        kfile = find_kustomization(root_real, current)
        if kfile is None:
            continue
        docs = walk.load(kfile, max_documents=1)
        doc = docs[0] if docs else {}
        rel = paths.relative(root_real, kfile)
        if not isinstance(doc, dict):
            raise errors.RenderError(f"{rel}: a kustomization must be a mapping")
        _Kustomization(walk, rel=rel, directory=current, plugins=plugins).check(doc)


@dataclass(frozen=True)
class _Kustomization:
    """The checks of one kustomization file; `plugins`: its resources are plugin configs."""

    walk: _Walk
    rel: str
    directory: str
    plugins: bool

    def check(self, doc: Mapping[str, Any]) -> None:
        for name in _HELM_FIELDS:
            if doc.get(name):
                raise errors.RenderError(
                    f"{self.rel}: {name} is not supported (Helm inflation downloads charts)")
        self._check_lists(doc)
        for name in _PATH_ITEM_FIELDS:
            for index, item in enumerate(self._list(doc, name)):
                self._path_of(item, where=f"{name}[{index}].path")
        self._path_of(doc.get("openapi"), where="openapi.path")
        for name in _GENERATOR_FIELDS:
            for index, item in enumerate(self._list(doc, name)):
                self._generator(item, where=f"{name}[{index}]")

    def _check_lists(self, doc: Mapping[str, Any]) -> None:
        for name in _REFERENCE_FIELDS:
            for where, entry in self._strings(doc, name):
                self._reference(entry, where=where, plugins=self.plugins)
        for name in _PLUGIN_FIELDS:
            for where, entry in self._strings(doc, name):
                self._plugin_entry(entry, where=where)
        for name in (*_FILE_LIST_FIELDS, "patchesStrategicMerge"):
            for where, entry in self._strings(doc, name):
                if name != "patchesStrategicMerge" or _inline(entry) is None:
                    self._file(entry, where=where)

    # -- entries ---------------------------------------------------------------------------

    def _reference(self, entry: str, *, where: str, plugins: bool) -> None:
        target = self._resolve(entry, where=where, missing=_refuse_missing)
        assert target is not None
        if os.path.isdir(target):
            self.walk.pending.append((target, plugins))
        elif plugins:
            self._plugin_file(target, where=where)

    def _plugin_entry(self, entry: str, *, where: str) -> None:
        inline = _inline(entry)
        if inline is not None:
            for doc in inline:
                self._plugin_config(doc, where=f"inline {where}")
            return
        self._reference(entry, where=where, plugins=True)

    def _plugin_file(self, real: str, *, where: str) -> None:
        shown = paths.relative(self.walk.root_real, real)
        for doc in self.walk.load(real, max_documents=self.walk.caps.max_documents):
            self._plugin_config(doc, where=f"{where} ({shown})")

    def _plugin_config(self, doc: Any, *, where: str) -> None:
        if not isinstance(doc, dict):
            return
        kind = str(doc.get("kind", "?"))[:100]
        if doc.get("apiVersion") != BUILTIN:
            raise errors.RenderError(
                f"{where} in {self.rel}: {kind} is not a builtin generator or transformer "
                f"(apiVersion: {BUILTIN}); kustomize plugins are disabled")
        if kind == "HelmChartInflationGenerator":
            raise errors.RenderError(f"{where} in {self.rel}: Helm inflation is not supported")
        if kind in ("ConfigMapGenerator", "SecretGenerator"):
            self._generator(doc, where=f"{where} {kind}")
        for index, item in enumerate(_as_list(doc.get("replacements"))):
            self._path_of(item, where=f"{where} {kind}.replacements[{index}].path")
        self._path_of(doc, where=f"{where} {kind}.path")
        for index, entry in enumerate(_as_list(doc.get("paths"))):
            self._file(entry, where=f"{where} {kind}.paths[{index}]")

    def _generator(self, item: Any, *, where: str) -> None:
        if not isinstance(item, dict):
            return
        for index, source in enumerate(_as_list(item.get("files"))):
            if not isinstance(source, str):
                raise errors.RenderError(f"{self.rel}: {where}.files entries must be strings")
            _refuse_remote(source, where=f"{where}.files[{index}]", rel=self.rel)
            self._file(source.partition("=")[2] or source, where=f"{where}.files[{index}]")
        for index, env in enumerate(_as_list(item.get("envs"))):
            self._file(env, where=f"{where}.envs[{index}]")
        if item.get("env") is not None:
            self._file(item["env"], where=f"{where}.env")

    def _path_of(self, item: Any, *, where: str) -> None:
        if isinstance(item, dict) and item.get("path") is not None:
            self._file(item["path"], where=where)

    def _file(self, entry: Any, *, where: str) -> None:
        """A file kustomize reads itself: never a URL, never outside; a missing one is left to
        kustomize, which reports it (a local name is never fetched)."""
        if not isinstance(entry, str):
            raise errors.RenderError(f"{self.rel}: {where} must be a string")
        self._resolve(entry, where=where, missing=lambda _what: None)

    # -- shared ----------------------------------------------------------------------------

    def _resolve(self, entry: str, *, where: str,
                 missing: Callable[[str], None]) -> str | None:
        _refuse_remote(entry, where=where, rel=self.rel)
        what = f"kustomize reference {where} {_shown(entry)} in {self.rel}"
        if entry.startswith("/") or "\\" in entry or "\x00" in entry:
            raise errors.PathEscapeError(f"out of bounds {what}")
        try:
            return paths.resolve_within(self.walk.root_real, self.directory,
                                        entry.split("/"), via=what)
        except errors.MissingPathError:
            missing(what)
            return None

    def _strings(self, doc: Mapping[str, Any], name: str) -> list[tuple[str, str]]:
        entries = self._list(doc, name)
        if not all(isinstance(entry, str) for entry in entries):
            raise errors.RenderError(f"{self.rel}: {name} must be a list of strings")
        return [(f"{name}[{index}]", entry) for index, entry in enumerate(entries)]

    def _list(self, doc: Mapping[str, Any], name: str) -> list[Any]:
        value = doc.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise errors.RenderError(f"{self.rel}: {name} must be a list")
        return value


def _refuse_remote(entry: str, *, where: str, rel: str) -> None:
    if _SCHEME.match(entry) or _SCP_LIKE.match(entry) or "?" in entry or "://" in entry:
        raise errors.RenderError(
            f"kustomize reference {where} {_shown(urls.redact_url(entry))} in {rel} is a URL or "
            "a remote reference; nothing is fetched during render: vendor it into the repository")


def _refuse_missing(what: str) -> None:
    raise errors.RenderError(
        f"{what} not found in the checkout (remote resources are not allowed)")


def _inline(entry: str) -> list[Any] | None:
    """The documents of an inline plugin config or patch (a YAML mapping), else None."""
    if "\n" not in entry and ": " not in entry:
        return None
    try:
        docs = safeyaml.load_documents(entry.encode("utf-8"), source="inline",
                                       max_bytes=1 << 20, max_documents=100, max_depth=100)
    except sealer_errors.ManifestError:
        return None
    return docs if any(isinstance(doc, dict) for doc in docs) else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _shown(entry: str) -> str:
    text = ascii(entry)
    return text if len(text) <= 100 else text[:96] + "...'"
