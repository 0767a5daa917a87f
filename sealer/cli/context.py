"""The context object `seal` commands read instead of globals (click's `ctx.obj`).

`fetch_public_keys` is the hook for public keys when no `--cert` is given: None (the default)
means "not available here" and gives a clear error; a cluster-aware package plugs in a
function (`main.main(obj=CliContext(fetch_public_keys=...))`). `now` is injected for tests.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sealer.crypto import keys

__all__ = ["CliContext", "get"]


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass(frozen=True)
class CliContext:
    """What commands need from their surroundings."""

    fetch_public_keys: Callable[[], keys.PublicKeys] | None = None
    now: Callable[[], datetime.datetime] = _utcnow


def get(ctx: click.Context) -> CliContext:
    """The `CliContext` of the running command (a default one when none was given)."""
    found = ctx.find_object(CliContext)
    return found if found is not None else CliContext()
