"""The typer app: the root callback that builds ``ctx.obj``, and the commands attached to it.

Command modules know nothing of this module: each defines one plain function, which
:data:`COMMANDS` names and :func:`build` attaches, in the order ``alexprof --help`` lists
them.  A run of one command builds the app with that command only (typer reads every
attached function's signature when it builds the click command: ~20 ms for all eight).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Annotated, Any

import typer

from alexprof.cli.coerce import Command, Group
from alexprof.cli.state import State

HELP = (
    "Exact per-layer parameters, FLOPs and training memory of convolutional networks, "
    "derived on paper and checked against what PyTorch measures."
)
COMMANDS = {  # name -> module:function, in help order; each module is imported when attached
    "models": "alexprof.cli.commands.models:models",
    "params": "alexprof.cli.commands.params:params",
    "flops": "alexprof.cli.commands.flops:flops",
    "check": "alexprof.cli.commands.check:check",
    "compare": "alexprof.cli.commands.compare:compare",
    "roofline": "alexprof.cli.commands.roofline:roofline",
    "memtrace": "alexprof.cli.commands.memtrace:memtrace",
    "fit": "alexprof.cli.commands.fit:fit",
}
HELP_OPTIONS = ["-h", "--help"]


def show_version(value: bool) -> None:
    if value:
        from alexprof.cli.version import version_text

        print(version_text(), end="")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=show_version,
            help="Show alexprof, torch, ptflops, Python versions.",
        ),
    ] = False,
) -> None:
    """Build the run's :class:`State` (``ctx.obj``).  Root options are flags only:
    :func:`command_named` relies on it."""
    ctx.obj = State.build(debug)


def command(name: str) -> Callable[..., None]:
    """The function :data:`COMMANDS` names for ``name``."""
    module, _, function = COMMANDS[name].partition(":")
    return getattr(import_module(module), function)


def build(names: Sequence[str] = tuple(COMMANDS)) -> typer.Typer:
    app = typer.Typer(
        name="alexprof",
        help=HELP,
        cls=Group,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
        context_settings={"help_option_names": HELP_OPTIONS},
    )
    app.callback()(root)
    for name in names:
        app.command(name, cls=Command)(command(name))
    return app


def command_named(args: Sequence[str]) -> str | None:
    """The command ``args`` run: the first word that is not a root flag, if it is a command
    and no root --help comes before it (the root's help lists every command)."""
    for arg in args:
        if arg in HELP_OPTIONS:
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def for_args(args: Sequence[str]) -> typer.Typer:
    """The app with only the command ``args`` name, or all of them (help, a typo)."""
    name = command_named(args)
    return build((name,) if name else tuple(COMMANDS))


def __getattr__(name: str) -> Any:  # ``from alexprof.cli.app import app``: every command
    if name == "app":
        return build()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
