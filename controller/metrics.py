"""Prometheus text metrics: unseal results by outcome, durations, key generations, queue depth,
rollouts by workload kind and Secret source.

Labels are reasons and kinds chosen by our code, never names of secrets or values.
"""

from __future__ import annotations

import threading
from collections import defaultdict

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[str, int] = defaultdict(int)
        self._buckets = [0] * len(_BUCKETS)
        self._count = 0
        self._sum = 0.0
        self._generations = 0
        self._queue = 0
        self._http: dict[tuple[str, int], int] = defaultdict(int)
        self._rollouts: dict[tuple[str, str], int] = defaultdict(int)
        self._rollout_failures: dict[str, int] = defaultdict(int)

    def observe_unseal(self, outcome: str, seconds: float) -> None:
        with self._lock:
            self._results[outcome] += 1
            self._count += 1
            self._sum += seconds
            for i, bound in enumerate(_BUCKETS):
                if seconds <= bound:
                    self._buckets[i] += 1

    def set_generations(self, count: int) -> None:
        with self._lock:
            self._generations = count

    def queue_delta(self, delta: int) -> None:
        with self._lock:
            self._queue += delta

    def observe_http(self, endpoint: str, code: int) -> None:
        with self._lock:
            self._http[(endpoint, code)] += 1

    def observe_rollout(self, kind: str, source: str) -> None:
        """A workload of `kind` was stamped because a Secret written by `source` changed."""
        with self._lock:
            self._rollouts[(kind, source)] += 1

    def observe_rollout_failure(self, kind: str) -> None:
        with self._lock:
            self._rollout_failures[kind] += 1

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP sealops_unseal_total SealedSecret reconciles by outcome.",
                "# TYPE sealops_unseal_total counter",
            ]
            lines += [f'sealops_unseal_total{{outcome="{k}"}} {v}'
                      for k, v in sorted(self._results.items())]
            lines += [
                "# HELP sealops_unseal_duration_seconds Time to reconcile one SealedSecret.",
                "# TYPE sealops_unseal_duration_seconds histogram",
            ]
            lines += [f'sealops_unseal_duration_seconds_bucket{{le="{b}"}} {n}'
                      for b, n in zip(_BUCKETS, self._buckets, strict=True)]
            lines += [f'sealops_unseal_duration_seconds_bucket{{le="+Inf"}} {self._count}',
                      f"sealops_unseal_duration_seconds_sum {self._sum:.6f}",
                      f"sealops_unseal_duration_seconds_count {self._count}",
                      "# HELP sealops_key_generations Key generations loaded.",
                      "# TYPE sealops_key_generations gauge",
                      f"sealops_key_generations {self._generations}",
                      "# HELP sealops_queue_depth Reconciles waiting or running.",
                      "# TYPE sealops_queue_depth gauge",
                      f"sealops_queue_depth {self._queue}",
                      "# HELP sealops_http_requests_total HTTP requests by endpoint and code.",
                      "# TYPE sealops_http_requests_total counter"]
            lines += [f'sealops_http_requests_total{{endpoint="{e}",code="{c}"}} {n}'
                      for (e, c), n in sorted(self._http.items())]
            lines += ["# HELP sealops_rollouts_total Workloads rolled because a Secret changed.",
                      "# TYPE sealops_rollouts_total counter"]
            lines += [f'sealops_rollouts_total{{kind="{k}",source="{s}"}} {n}'
                      for (k, s), n in sorted(self._rollouts.items())]
            lines += ["# HELP sealops_rollout_failures_total Failed attempts to stamp a workload.",
                      "# TYPE sealops_rollout_failures_total counter"]
            lines += [f'sealops_rollout_failures_total{{kind="{k}"}} {n}'
                      for k, n in sorted(self._rollout_failures.items())]
        return "\n".join(lines) + "\n"
