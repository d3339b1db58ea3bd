"""The ``alexprof`` command line.  Each command parses, calls core, renders.

Errors: an :class:`~alexprof.errors.AlexprofError` (or a typer usage error) becomes one
line on stderr and exit code 2 (1 for failed checks).  Pass ``--debug`` (before the
command) or set ``ALEXPROF_DEBUG=1`` for the traceback.  torch is imported only by the
commands and flags that measure (``--verify``, ``memtrace``).

Layout: :mod:`.app` (the typer app, its root callback and the commands attached to it),
:mod:`.state` (``ctx.obj``), :mod:`.options` (shared options), :mod:`.commands` (one module
per command), :mod:`.load` (MODEL/--model/--spec/--input to a network), :mod:`.exits`
(the one exit path), :mod:`.coerce` (typer's conversion without pydantic).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Console entry point (``alexprof``, ``python -m alexprof``): run one command, return
    its exit code; expected failures are one line on stderr."""
    from typer.main import get_command

    from alexprof.cli.app import for_args
    from alexprof.cli.exits import exit_code
    from alexprof.cli.state import State, debug_from_env

    args = sys.argv[1:] if argv is None else list(argv)
    ctx: Any = None
    try:
        root = get_command(for_args(args))
        ctx = root.make_context("alexprof", args or ["--help"])  # no arguments: the help
        with ctx:
            result = root.invoke(ctx)
    except BaseException as error:
        state = getattr(ctx, "obj", None)  # built by the root callback, once it has run
        debug = state.debug if isinstance(state, State) else debug_from_env()
        return exit_code(error, debug)
    return result if isinstance(result, int) else 0
