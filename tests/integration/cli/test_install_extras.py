"""The base install (`pip install sealops`, what the pre-commit hook gets) is enough for
`seal check`, and the extras are declared as the README says.

A fresh interpreter runs with the operator stack and the Kubernetes client made unimportable
(a meta-path finder that refuses them, as if they were not installed), so any import of them on
the `seal check` path, at import time or lazily, fails the test. The real installs are measured
by benchmarks/hook_install.py (it needs a package index, so it is not a test).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OPERATOR_STACK = ("kopf", "kubernetes", "hvac", "aiohttp", "prometheus_client")
BLOCK = f"""
import importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {OPERATOR_STACK!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Absent())
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK + code, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_seal_check_runs_without_the_operator_stack(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
                                     "stringData: {password: canary-extras}\n")
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    run = "from sealer.cli import main; sys.exit(main(sys.argv[1:]))"
    found = _python(run, "check", str(tmp_path / "s.yaml"))
    assert found.returncode == 1, found.stderr
    assert "Secret db item 'password'" in found.stdout and "canary-extras" not in found.stdout
    clean = _python(run, "check", str(tmp_path / "ok.yaml"))
    assert (clean.returncode, clean.stderr) == (0, "")
    # Nothing caught the refusal and went on: none of them was imported at all.
    loaded = _python("from sealer.cli import main\n"
                     "try:\n    main(['check', sys.argv[1]])\n"
                     "finally:\n"
                     f"    print(sorted(m for m in sys.modules if m.partition('.')[0] in "
                     f"{OPERATOR_STACK!r}))", str(tmp_path / "ok.yaml"))
    assert loaded.stdout.strip().endswith("[]"), loaded.stderr


def test_sealops_without_the_stack_says_which_extra_to_install() -> None:
    done = _python("from controller.cli import main; sys.exit(main(sys.argv[1:]))",
                   "controller", "--namespace", "sealops-system")
    assert done.returncode == 1
    assert "pip install 'sealops[controller]'" in done.stderr
    helped = _python("from controller.cli import main; sys.exit(main(['--help']))")
    assert helped.returncode == 0 and "sealops get all -A" in helped.stdout


def test_the_extras_split_the_stack_and_dev_keeps_everything() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {d.split(">")[0].split("[")[0].lower() for d in project["dependencies"]}
    extras = project["optional-dependencies"]
    assert base == {"cryptography", "pynacl", "click", "pyyaml", "urllib3", "jinja2"}
    assert extras["cluster"] == ["kubernetes>=29"]
    assert "sealops[cluster]" in extras["controller"]
    assert {d.split(">")[0] for d in extras["controller"]} >= {
        "kopf", "hvac", "aiohttp", "prometheus-client"}
    assert "sealops[controller]" in extras["dev"]
