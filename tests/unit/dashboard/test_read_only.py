"""The dashboard only reads, and never Secrets: checked on its source, so a later change that
adds a write or a Secret read fails here before any cluster sees it."""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[3] / "controller" / "dashboard"
COMMAND = PACKAGE.parent / "commands" / "dashboard.py"
FORBIDDEN_IMPORTS = ("kopf", "hvac", "controller.handlers", "controller.operator",
                     "controller.vault", "controller.vaultsync", "controller.gitops",
                     "controller.apply.applier", "controller.apply.prune", "controller.keys")
# Writes, and acting as anyone but the user (the view must show only what the user may read).
FORBIDDEN_CALLS = {"create", "apply", "patch", "delete", "replace", "patch_status",
                   "impersonating"}


def _trees() -> list[tuple[str, ast.AST]]:
    files = [*sorted(PACKAGE.glob("*.py")), COMMAND]
    return [(f.name, ast.parse(f.read_text())) for f in files]


def _imported(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _receiver(node: ast.expr) -> str:
    """The name a method is called on (`kube`, `self._kube`): the API client is `*kube*`."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def test_the_dashboard_imports_no_operator_vault_or_writing_module() -> None:
    offending = {(name, mod) for name, tree in _trees() for mod in _imported(tree)
                 if mod.startswith(FORBIDDEN_IMPORTS)}
    assert offending == set()


def test_the_dashboard_calls_no_writing_client_method_and_names_no_secret_resource() -> None:
    calls, secrets, reads = set(), set(), set()
    for name, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in FORBIDDEN_CALLS and "kube" in _receiver(node.func.value):
                calls.add((name, node.func.attr, node.lineno))
            if isinstance(node, ast.Attribute) and node.attr == "SECRETS":
                secrets.add((name, node.lineno))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("list", "get") \
                    and "kube" in _receiver(node.func.value):
                reads.add(node.func.attr)
    assert calls == set() and secrets == set()
    assert reads == {"list", "get"}  # the check sees the client calls that do exist
