"""The Git-side rule for templated data, per object: which `template.data` values may be
committed. One rule for `seal check` (`sealer.manifests.check`) and the GitOps plan
(`controller.apply.plan`), so the pre-commit hook and the cluster never disagree.

    SealedSecret (sealops.dev)  spec.template.data         Jinja subset; items: encryptedData
    SealedSecret (bitnami.com)  spec.template.data         the two Go forms; items: the same
    VaultSecret  (sealops.dev)  spec.target.template.data  Jinja subset; items: spec.data[]
                                                           secretKeys (any, with dataFrom)

Each value must be a template that reads at least one of those items (`git_problem`); a
literal is plaintext in Git. `null` (remove the key) is always fine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sealer import templating

SEALOPS = "sealops.dev"
BITNAMI = "bitnami.com"


@dataclasses.dataclass(frozen=True)
class Problem:
    """One refused value: its path in the object (for line numbers), its key and why."""

    path: tuple[str, ...]
    key: str | None
    message: str


def problems(obj: Mapping[str, Any]) -> list[Problem]:
    """The refused `template.data` values of one object (empty for any other kind)."""
    found = _templates_of(obj)
    if found is None:
        return []
    path, templates, items, dialect = found
    if templates is None:
        return []
    if not isinstance(templates, Mapping):
        return [Problem(path, None, f"{'.'.join(path)} must be a mapping")]
    out = []
    for key in sorted(templates, key=str):
        if not templating.is_secret_key(key):
            out.append(Problem((*path, str(key)), str(key), "is not a valid Secret data key"))
            continue
        why = templating.git_problem(templates[key], items=items, dialect=dialect)
        if why is not None:
            out.append(Problem((*path, str(key)), str(key), f"the template {why}"))
    return out


def has_templates(obj: Mapping[str, Any]) -> bool:
    found = _templates_of(obj)
    return found is not None and bool(found[1])


def _templates_of(obj: Mapping[str, Any]) -> tuple[
        tuple[str, ...], object, frozenset[str] | None, str] | None:
    group = str(obj.get("apiVersion") or "").partition("/")[0]
    kind = obj.get("kind")
    spec = obj.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    if kind == "SealedSecret" and group in (SEALOPS, BITNAMI):
        template = _mapping(spec.get("template"))
        sealed = _mapping(spec.get("encryptedData"))
        return (("spec", "template", "data"), template.get("data"),
                frozenset(str(k) for k in sealed), "go" if group == BITNAMI else "jinja")
    if kind == "VaultSecret" and group == SEALOPS:
        template = _mapping(_mapping(spec.get("target")).get("template"))
        return (("spec", "target", "template", "data"), template.get("data"),
                _vault_keys(spec), "jinja")
    return None


def _vault_keys(spec: Mapping[str, Any]) -> frozenset[str] | None:
    """The keys a VaultSecret fetches, when Git says them all (no `dataFrom`)."""
    if spec.get("dataFrom"):
        return None
    entries = spec.get("data")
    entries = entries if isinstance(entries, list) else []
    return frozenset(str(e.get("secretKey")) for e in entries if isinstance(e, Mapping))


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
