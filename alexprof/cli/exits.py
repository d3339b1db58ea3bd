"""The one exit path: every way a run ends becomes an exit code and at most one line on stderr.

0 success; 1 a check found a mismatch; 2 bad usage or input; 3 an internal error;
130 interrupted.  A traceback appears only in debug mode (--debug, ALEXPROF_DEBUG=1).
"""

from __future__ import annotations

import typer

from alexprof.errors import AlexprofError

INTERNAL = 3
INTERRUPTED = 130


def error_line(message: str) -> None:
    from alexprof.report.output import error_line as line  # the one place error lines are worded

    line(message)


def exit_code(error: BaseException, debug: bool) -> int:
    """Report ``error`` and return the exit code.  In debug mode an error typer did not
    report itself is re-raised (its traceback printed), so call this inside ``except``."""
    if isinstance(error, typer.Exit):  # --help, --version: done, nothing more to say
        return error.exit_code
    if isinstance(error, (typer.Abort, EOFError)):  # EOFError: input ended at a prompt
        error_line("aborted")
        return 1
    if isinstance(error, KeyboardInterrupt):
        error_line("interrupted")
        return INTERRUPTED
    if isinstance(error, typer.TyperException):
        # typer's (vendored click's) usage errors derive from typer's public TyperException;
        # each carries its exit code (2 for usage) and a message, sometimes on two lines
        error_line(error.format_message().replace("\n", " "))
        return error.exit_code
    if debug or not isinstance(error, Exception):
        raise error
    if isinstance(error, AlexprofError):
        error_line(str(error))
        return error.exit_code
    error_line(
        f"internal error: {type(error).__name__}: {error} (ALEXPROF_DEBUG=1 for the traceback)"
    )
    return INTERNAL
