"""What the environment may set for `seal`, and the note on stderr for whatever it did set.

Every option can also come from `SEAL_<COMMAND>_<OPTION>` (click's `auto_envvar_prefix`) or
from a variable it names (`SEAL_CONTROLLER_URL`). The environment outlives the command line
(a CI job, a shell profile, a `.envrc` in a checkout someone else controls), so it gets less
authority than the command line:

- `CommandLineOnly` options - those that name a file to write or rewrite (`-o`, `--merge-into`,
  `--out`), rewrite files in place (`check --fix`) or lift a safety refusal (`--force`,
  `--allow-short-passphrase`) - refuse a value from the environment (exit 2, naming the
  variable, never silently ignoring it);
- `--scope` from the environment may narrow but never widen what a Secret's own annotations
  say (`refuse_env_widening`, called by the sealing commands);
- every other value taken from the environment is announced on stderr by `Command` and
  `Group` (the classes every `seal` command uses; `app.SealGroup` refuses any other), with the
  value only when it is a choice, a flag, a number or a path - a free string such as a URL
  could carry credentials.

Imports only click and the standard library, like every command module.
"""

from __future__ import annotations

import os
from typing import Any

import click

from sealer import errors

__all__ = ["Command", "CommandLineOnly", "Group", "announce", "refuse_env_widening"]

_SCOPE_WIDTH = {"strict": 0, "namespace-wide": 1, "cluster-wide": 2}
_SHOWN_TYPES = (click.Choice, click.Path, click.types.BoolParamType, click.types.IntParamType)


class CommandLineOnly(click.Option):
    """An option the environment may not set: a value there is refused, never ignored."""

    def resolve_envvar_value(self, ctx: click.Context) -> str | None:
        found = super().resolve_envvar_value(ctx)
        if found is not None:
            name = envvar_name(self, ctx) or "the environment"
            raise click.UsageError(
                f"{name} is set, but {self.opts[-1]} {_why(self)} and is taken from the "
                "command line only; unset the variable (and pass the option if you mean it)",
                ctx=ctx,
            )
        return None


def _why(option: click.Option) -> str:
    if option.is_flag:
        return "lifts a safety check or rewrites files"
    return "names a file to write"


class Command(click.Command):
    """A click command that announces the option values it took from the environment."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        announce(ctx)
        return rest


class Group(click.Group):
    """A click group whose subcommands are `Command`s and whose own options are announced."""

    command_class = Command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        announce(ctx)
        return rest


Group.group_class = Group


def announce(ctx: click.Context) -> None:
    """One stderr line per parameter of `ctx` whose value came from the environment."""
    for param in ctx.command.params:
        if param.name is None or not isinstance(param, click.Option):
            continue
        if ctx.get_parameter_source(param.name) is not click.core.ParameterSource.ENVIRONMENT:
            continue
        name = envvar_name(param, ctx) or "the environment"
        shown = ""
        if isinstance(param.type, _SHOWN_TYPES):
            shown = f" ({_show(ctx.params.get(param.name, param.resolve_envvar_value(ctx)))})"
        click.echo(f"seal: {name} sets {param.opts[-1]}{shown}", err=True)


def envvar_name(param: click.Option, ctx: click.Context) -> str | None:
    """The variable `param` took (or would take) its value from, the way click looks it up."""
    names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or ())
    if param.allow_from_autoenv and ctx.auto_envvar_prefix is not None and param.name:
        names.append(f"{ctx.auto_envvar_prefix}_{param.name.upper()}")
    return next((name for name in names if os.environ.get(name)), None)


def refuse_env_widening(
    ctx: click.Context, *, scope: str | None, own: str, what: str, param: str = "scope"
) -> None:
    """Refuse `--scope` from the environment when it is wider than `own`, the scope `what`
    (e.g. "Secret prod/db") claims itself; a scope on the command line may widen."""
    if scope is None or ctx.get_parameter_source(param) is not (
        click.core.ParameterSource.ENVIRONMENT
    ):
        return
    if _SCOPE_WIDTH[scope] > _SCOPE_WIDTH[own]:
        command = ctx.command_path.split(" ", 1)[-1]
        raise errors.UsageError(
            f"{envvar_name_for(ctx, param)}={scope} would widen {what} beyond its own scope "
            f"({own}); the environment may not widen a scope: pass --scope {scope} to "
            f"`{command}` on the command line if you mean it"
        )


def envvar_name_for(ctx: click.Context, param_name: str) -> str:
    for param in ctx.command.params:
        if param.name == param_name and isinstance(param, click.Option):
            return envvar_name(param, ctx) or "the environment"
    return "the environment"


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(_show(v) for v in value)
    text = str(value)
    return text if text.isprintable() and len(text) <= 200 else ascii(text)[:200]
