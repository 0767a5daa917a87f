"""Seal the example SealedSecrets from values you give, with the real `seal secret` command.

The SealedSecrets committed under examples/ are sealed to the DEMO-ONLY key pair in
examples/keys/ (see its README); their plaintext was never committed. This script is how they
were produced, and how `make demo` re-seals them for a fresh cluster's key:

    python examples/reseal.py --cert examples/keys/public.pem --generate
    python examples/reseal.py --cert pub.pem --values values.json --only gitops-repo/

`--generate` draws fresh random values; `--values FILE` reads JSON
`{"<namespace>/<name>": {"<item key>": "<value>", ...}, ...}` for the targets `--list` prints.
Each file is written by `seal secret --cert CERT --scope SCOPE [--kind bitnami]` with the
Secret on its stdin (never in argv); the script prints file names, scopes and item keys, never
a value.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
HEADER = ("# {namespace}/{name}, scope {scope}: written by examples/reseal.py "
          "(seal secret); the plaintext is not in Git.\n")


@dataclass(frozen=True)
class Target:
    """One SealedSecret file of the examples and what it seals."""

    path: str
    namespace: str
    name: str
    items: tuple[str, ...]
    scope: str = "strict"
    kind: str = "sealops"

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


TARGETS = (
    # dev renames `db` to `dev-db` (namePrefix): only a namespace-wide seal survives that.
    Target("gitops-repo/apps/shop/overlays/dev/db.sealedsecret.yaml", "shop-dev", "db",
           ("password",), scope="namespace-wide"),
    Target("gitops-repo/apps/shop/overlays/staging/db.sealedsecret.yaml", "shop-staging", "db",
           ("password",)),
    Target("gitops-repo/apps/shop/overlays/prod/db.sealedsecret.yaml", "shop-prod", "db",
           ("password",)),
    Target("plain-yaml/app/api-token.sealedsecret.yaml", "hello", "api-token", ("token",)),
    # The same Secret before (kubeseal's format) and after the migration to sealops.
    Target("bitnami-migration/before/db.sealedsecret.yaml", "legacy", "db",
           ("username", "password"), kind="bitnami"),
    Target("bitnami-migration/after/db.sealedsecret.yaml", "legacy", "db",
           ("username", "password")),
)


def seal_command() -> list[str]:
    """The `seal` next to this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "seal"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("seal")
    if found is None:
        raise SystemExit("reseal: `seal` is not installed (pip install -e . first)")
    return [found]


def generated_values(targets: Sequence[Target]) -> dict[str, dict[str, str]]:
    """Fresh random values per target; a Secret sealed twice (bitnami before/after) gets the
    same values both times, as a migration would."""
    values: dict[str, dict[str, str]] = {}
    for target in targets:
        known = values.setdefault(target.ref, {})
        for item in target.items:
            known.setdefault(item, "shop" if item == "username" else secrets.token_urlsafe(24))
    return values


def read_values(path: Path, targets: Sequence[Target]) -> dict[str, dict[str, str]]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise SystemExit(f"reseal: {path} must hold a JSON object")
    for target in targets:
        given = data.get(target.ref)
        if not isinstance(given, dict) or sorted(given) != sorted(target.items):
            raise SystemExit(f"reseal: {path} needs {target.ref} with exactly the keys "
                             f"{', '.join(target.items)}")
    return {ref: {str(k): str(v) for k, v in items.items()} for ref, items in data.items()}


def seal(target: Target, values: Mapping[str, str], *, cert: Path, root: Path) -> None:
    """Write `root/target.path` with `seal secret`, the Secret going through stdin."""
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": target.name, "namespace": target.namespace},
              "stringData": {item: values[item] for item in target.items}}
    argv = [*seal_command(), "secret", "--cert", str(cert), "--scope", target.scope]
    if target.kind == "bitnami":
        argv += ["--kind", "bitnami"]
    result = subprocess.run(argv, input=json.dumps(secret).encode(), capture_output=True,
                            check=False)
    if result.returncode != 0:
        raise SystemExit(f"reseal: seal secret failed for {target.ref}: "
                         f"{result.stderr.decode(errors='replace').strip()}")
    out = root / target.path
    out.parent.mkdir(parents=True, exist_ok=True)
    header = HEADER.format(namespace=target.namespace, name=target.name, scope=target.scope)
    out.write_text(header + result.stdout.decode())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python examples/reseal.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cert", type=Path, help="public key file (seal cert / seal keys "
                        "generate); examples/keys/public.pem for the committed files")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--generate", action="store_true", help="fresh random values")
    source.add_argument("--values", type=Path, help="JSON file of values (see above)")
    parser.add_argument("--root", type=Path, default=EXAMPLES,
                        help="directory the target paths are relative to (default: examples/)")
    parser.add_argument("--only", default="", help="only targets whose path starts with this")
    parser.add_argument("--list", action="store_true", help="print the targets and exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    targets = [t for t in TARGETS if t.path.startswith(args.only)]
    if args.list:
        for t in targets:
            print(f"{t.ref:<20} {t.scope:<15} {t.kind:<8} {', '.join(t.items):<20} {t.path}")
        return 0
    if args.cert is None or not (args.generate or args.values):
        raise SystemExit("reseal: give --cert and one of --generate, --values FILE")
    values = generated_values(targets) if args.generate else read_values(args.values, targets)
    for target in targets:
        seal(target, values[target.ref], cert=args.cert, root=args.root)
        print(f"sealed {target.ref} ({target.scope}, items: {', '.join(target.items)}) "
              f"-> {target.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
