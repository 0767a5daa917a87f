"""The context object `seal` commands read instead of globals (click's `ctx.obj`).

`fetch_public_keys` is the hook for public keys when no `--cert` is given. `seal` itself
(`app.main`, when no context object is passed) plugs in `cluster.fetch_public_keys`, which reads
the cluster named by the command's `--controller-namespace/--kubeconfig/--context`; None means
"not available here" and gives a clear error; tests and embedders pass their own
(`main.main(obj=CliContext(fetch_public_keys=...))`). `connect_controller` likewise replaces
how `seal verify` and `seal reencrypt` reach the controller. `now` is injected for tests.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sealer.crypto import keys
    from sealer.kube import controller

__all__ = ["CliContext", "get"]


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass(frozen=True)
class CliContext:
    """What commands need from their surroundings."""

    fetch_public_keys: Callable[[], keys.PublicKeys] | None = None
    now: Callable[[], datetime.datetime] = _utcnow
    # The controller for `verify`/`reencrypt` without --key; None: the command's cluster options.
    connect_controller: Callable[[], controller.ControllerClient] | None = None


def get(ctx: click.Context) -> CliContext:
    """The `CliContext` of the running command (a default one when none was given)."""
    found = ctx.find_object(CliContext)
    return found if found is not None else CliContext()
