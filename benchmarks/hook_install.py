"""Benchmark the pre-commit hook's first run: what `pip install sealops` costs, against the
operator stack (`sealops[controller]`) installed the same way, in the same run.

pre-commit builds a fresh virtualenv for a `language: python` hook and pip-installs the hook's
repository into it; that is the hook's first-run cost. For each variant this script:

1. creates a venv (`python -m venv`, pip as ensurepip ships it) in a temporary directory;
2. times `pip install --no-cache-dir SOURCE[EXTRA]` (a cold download, as on a new CI runner;
   the index pip is configured with is used);
3. measures the venv's size on disk (`du -sk`);
4. runs `seal check` once on a plaintext Secret (must exit 1 and name the item key) and once
   on a clean file (must exit 0), timing the first, so the hook is known to work as installed.

Goal: the base install is a fraction of the controller install in time and size.
Usage: python benchmarks/hook_install.py [--source PATH] [--python python3]
The last line printed is one JSON object with every figure. Needs network access to an index.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLAINTEXT = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: x}\n"
CLEAN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {mode: fast}\n"


def _size_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sk", str(path)], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[0]) / 1024


def variant(*, python: str, source: Path, extra: str, work: Path) -> dict[str, Any]:
    venv = work / (extra or "base")
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    empty = _size_mb(venv)
    target = f"{source}[{extra}]" if extra else str(source)
    started = time.perf_counter()
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--no-cache-dir",
                    "--disable-pip-version-check", target], check=True)
    seconds = time.perf_counter() - started
    files = work / f"files-{extra or 'base'}"
    files.mkdir()
    (files / "secret.yaml").write_text(PLAINTEXT)
    (files / "web.yaml").write_text(CLEAN)
    seal = str(venv / "bin" / "seal")
    started = time.perf_counter()
    found = subprocess.run([seal, "check", str(files / "secret.yaml")], check=False,
                           capture_output=True, text=True)
    check_s = time.perf_counter() - started
    clean = subprocess.run([seal, "check", str(files / "web.yaml")], check=False,
                           capture_output=True, text=True)
    works = found.returncode == 1 and "'password'" in found.stdout and clean.returncode == 0
    freeze = subprocess.run([str(venv / "bin" / "pip"), "freeze", "--exclude-editable"],
                            check=True, capture_output=True, text=True).stdout.split()
    return {"install_s": round(seconds, 1), "venv_mb": round(_size_mb(venv), 1),
            "empty_venv_mb": round(empty, 1), "packages": len(freeze),
            "seal_check_first_s": round(check_s, 2), "seal_check_works": works}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--python", default="python3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hook-install-") as tmp:
        work = Path(tmp)
        base = variant(python=args.python, source=args.source, extra="", work=work)
        full = variant(python=args.python, source=args.source, extra="controller", work=work)
    for name, row in (("sealops (base, the hook)", base), ("sealops[controller]", full)):
        print(f"{name:26} install {row['install_s']:6.1f} s   venv {row['venv_mb']:6.1f} MB   "
              f"{row['packages']:3d} packages   first seal check {row['seal_check_first_s']} s"
              f"   works: {row['seal_check_works']}")
    ratios = {"install_time_ratio": round(base["install_s"] / full["install_s"], 2),
              "venv_size_ratio": round(base["venv_mb"] / full["venv_mb"], 2)}
    print(f"base / controller: time {ratios['install_time_ratio']}, "
          f"size {ratios['venv_size_ratio']}")
    print(json.dumps({"base": base, "controller": full, **ratios}))
    if not (base["seal_check_works"] and full["seal_check_works"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
