"""The Dockerfile and the Deployment agree (no Docker here to build it): the numeric non-root
user, the entrypoint, the tools GitSync shells out to, and a build context that holds what the
Dockerfile copies."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from tests.integration.deploy.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _final_stage() -> list[tuple[str, str]]:
    steps = _instructions()
    last = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last:]


def _ignored(path: str) -> bool:
    """.dockerignore semantics for the simple patterns it uses (last match wins)."""
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/").removeprefix("**/")
        parts = path.split("/")
        if any(fnmatch.fnmatch("/".join(parts[:i + 1]), pattern) for i in range(len(parts))) \
                or fnmatch.fnmatch(parts[-1], pattern):
            ignored = not negate
    return ignored


def test_the_image_runs_sealops_as_the_deployments_numeric_user(
        base: list[dict[str, Any]]) -> None:
    final = _final_stage()
    users = [args for word, args in final if word == "USER"]
    assert users == ["10001:10001"]
    entrypoint = [json.loads(args) for word, args in final if word == "ENTRYPOINT"]
    assert entrypoint == [["sealops"]]
    deployment = next(o for o in base if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    assert f"{pod['runAsUser']}:{pod['runAsGroup']}" == users[0]


def test_the_image_has_git_ssh_and_kustomize_but_no_kubectl() -> None:
    final = " ".join(args for _, args in _final_stage())
    for tool in ("git", "openssh-client", "ca-certificates"):
        assert f" {tool} " in f" {final} ", tool
    assert "/usr/local/bin/kustomize" in final
    assert "kubectl" not in final


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    sources = []
    for word, args in _instructions():
        if word == "COPY" and not args.startswith("--from"):
            sources += args.split()[:-1]
    assert sources, "the builder copies the project from the build context"
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not _ignored(source.rstrip("/")), f"{source} is excluded by .dockerignore"
    # controller/manifests/ links to crds/ and deploy/: the wheel build needs their targets.
    for link in (ROOT / "controller" / "manifests").iterdir():
        if link.is_symlink():
            target = link.resolve().relative_to(ROOT)
            assert str(target) in sources, f"{target} (behind {link.name}) is not copied"
    for private in (".venv", ".git", ".cluster", "tests", "sealer/__pycache__", "scripts"):
        assert _ignored(private), f"{private} would be sent to the Docker daemon"
