"""The dashboard's templates and stylesheet ship in the wheel: every file under templates/ and
static/ matches a package-data glob in pyproject.toml (a new file type would otherwise be left
out of the wheel and fail only after installation)."""

from __future__ import annotations

import fnmatch
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "controller" / "dashboard"


def test_every_template_and_static_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["controller.dashboard"]
    files = [p.relative_to(PACKAGE).as_posix() for folder in ("templates", "static")
             for p in (PACKAGE / folder).rglob("*") if p.is_file()]
    assert files
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []
