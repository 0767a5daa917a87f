"""Benchmark the controller's `/metrics` page: render time and size by number of objects.

Each object has a Ready and a Reconciling condition (3 series each) and, for SealedSecrets,
values per key generation; GitSyncs add applied/pruned counters. The baseline is the page
with no object (build info, process metrics and the empty families), rendered in the same run:
the ratio says what each thousand objects adds to a scrape. Median of --runs renders.

Usage: .venv/bin/python benchmarks/metrics.py [--runs 21] [--objects 1000,5000]
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from controller import metrics


def populated(count: int) -> metrics.Metrics:
    m = metrics.Metrics()
    conditions = [{"type": "Ready", "status": "True"}, {"type": "Reconciling", "status": "False"}]
    for i in range(count):
        kind = ("SealedSecret", "VaultSecret", "GitSync")[i % 3]
        body = {"metadata": {"namespace": f"team-{i % 50}", "name": f"object-{i}"},
                "status": {"conditions": conditions}}
        m.observe_object(kind, body)
        if kind == "SealedSecret":
            m.set_sealed_values(kind, f"team-{i % 50}", f"object-{i}", {f"{i % 4:064x}": 3})
        if kind == "GitSync":
            m.observe_gitsync(f"team-{i % 50}", f"object-{i}", outcome="Succeeded", seconds=1.0,
                              stages=[("fetch", 0.1), ("render", 0.1)],
                              applied={"created": 1, "configured": 0, "unchanged": 5}, pruned=0)
    return m


def median_render(m: metrics.Metrics, runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(m.render())
        times.append(time.perf_counter() - started)
    return statistics.median(times), size


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--objects", default="1000,5000")
    args = parser.parse_args()
    base_s, base_bytes = median_render(populated(0), args.runs)
    cases = []
    for count in (int(c) for c in args.objects.split(",")):
        seconds, size = median_render(populated(count), args.runs)
        cases.append({"objects": count, "render_ms": round(seconds * 1000, 2), "bytes": size,
                      "ratio_to_empty": round(seconds / base_s, 1)})
        print(f"{count:6d} objects: {seconds * 1000:8.2f} ms, {size:9d} bytes "
              f"({seconds / base_s:.1f}x the empty page)")
    print(f"empty page: {base_s * 1000:.2f} ms, {base_bytes} bytes")
    print(json.dumps({"benchmark": "metrics", "empty_render_ms": round(base_s * 1000, 2),
                      "empty_bytes": base_bytes, "cases": cases}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
