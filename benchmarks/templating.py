"""Cost of templated Secret data: building the Secret body of N SealedSecrets (already opened)
with a DSN template and a config-file template, next to the same objects without templates,
measured in the same run; plus the cost of a template's first use (parse, check, compile) and
of each cached render. The last line is JSON.

    .venv/bin/python benchmarks/templating.py [--count 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controller.unseal import desired  # noqa: E402
from sealer import templating  # noqa: E402
from sealer.templating import _engine  # noqa: E402

ITEMS = {"user": b"shop", "password": b"p" * 32, "host": b"db.internal"}
TEMPLATES = {"dsn": "postgres://{{ user }}:{{ password }}@{{ host }}:5432/shop",
             "config.yaml": "db:\n  user: {{ user|toJson }}\n  password: {{ password|toJson }}\n"}


def _sealed(index: int, templates: dict[str, str] | None) -> dict[str, Any]:
    template: dict[str, Any] = {"type": "Opaque"}
    if templates:
        template["data"] = templates
    return {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": f"s{index}", "namespace": "bench", "uid": f"u{index}"},
            "spec": {"encryptedData": {}, "template": template}}


def _build_all(objects: list[dict[str, Any]]) -> float:
    opened = desired.Opened(data=dict(ITEMS), key_id=None)
    start = time.perf_counter()
    for obj in objects:
        desired.secret_for(obj, opened)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    count = parser.parse_args().count
    plain = _build_all([_sealed(i, None) for i in range(count)])
    _engine.compiled.cache_clear()
    start = time.perf_counter()
    templating.render_all(TEMPLATES, ITEMS, what="bench")
    first_use = time.perf_counter() - start
    templated = _build_all([_sealed(i, TEMPLATES) for i in range(count)])
    per_object_us = (templated - plain) / count * 1e6
    print(f"{count} Secret bodies without templates: {plain:.3f} s")
    print(f"{count} Secret bodies with 2 templates:  {templated:.3f} s "
          f"(ratio {templated / plain:.1f}x, +{per_object_us:.0f} us per object)")
    print(f"first use of the 2 templates (parse, check, compile): {first_use * 1e3:.1f} ms")
    print(json.dumps({"count": count, "plain_s": round(plain, 4),
                      "templated_s": round(templated, 4),
                      "ratio": round(templated / plain, 2),
                      "extra_us_per_object": round(per_object_us, 1),
                      "first_use_ms": round(first_use * 1e3, 2)}))


if __name__ == "__main__":
    main()
