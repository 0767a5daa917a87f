"""Y21 lint: no Python file in the repository loads YAML unsafely (CVE-2017-18342, -2020-1747)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("sealer", "controller", "tests", "benchmarks")

# Spelled in pieces so this file does not match its own patterns.
_YAML = r"\byaml\s*\.\s*"
FORBIDDEN = {
    "unsafe_load": re.compile(r"\bunsafe" + r"_load(_all)?\b"),
    "full_load": re.compile(_YAML + r"full" + r"_load(_all)?\b"),
    "FullLoader": re.compile(r"\bFull" + r"Loader\b"),
    "UnsafeLoader": re.compile(r"\bUnsafe" + r"Loader\b"),
    "yaml.Loader": re.compile(_YAML + r"(C)?" + r"Loader\b"),
}
LOAD_CALL = re.compile(_YAML + r"load(_all)?\s*\(")
SAFE_LOADER = re.compile(r"Loader\s*=\s*[\w.]*(C?SafeLoader|_Loader|safeyaml\.\w+)")


def python_files() -> list[Path]:
    return [
        path
        for top in SCANNED
        if (ROOT / top).is_dir()
        for path in sorted((ROOT / top).rglob("*.py"))
        if ".venv" not in path.parts
    ]


def violations(text: str) -> list[str]:
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]
    for match in LOAD_CALL.finditer(text):
        call = text[match.end() : match.end() + 300].split("\n\n", maxsplit=1)[0]
        if not SAFE_LOADER.search(call):
            found.append(f"yaml.load without a safe Loader near offset {match.start()}")
    return found


def test_the_lint_catches_each_unsafe_form() -> None:
    unsafe = [
        "yaml." + "load(text)",
        "yaml." + "load(text, Loader=yaml.Full" + "Loader)",
        "yaml." + "unsafe" + "_load(text)",
        "yaml." + "full" + "_load(text)",
        "x = yaml." + "Loader",
        "yaml." + "load_all(stream)",
    ]
    for source in unsafe:
        assert violations(source), source


def test_the_lint_accepts_safe_loading() -> None:
    for source in (
        "yaml.safe_load(text)",
        "yaml." + "load(text, Loader=yaml.SafeLoader)",
        "yaml." + "load(text, Loader=yaml.CSafeLoader)",
        "yaml.safe_dump(doc)",
    ):
        assert not violations(source), source


def test_no_python_file_in_the_repository_loads_yaml_unsafely() -> None:
    files = python_files()
    assert any(path.name == "safeyaml.py" for path in files)
    bad = {
        str(path.relative_to(ROOT)): found
        for path in files
        if path != Path(__file__).resolve()
        and (found := violations(path.read_text(encoding="utf-8", errors="replace")))
    }
    assert bad == {}
