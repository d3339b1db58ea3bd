"""The two ways a command can fail on purpose, and their exit codes.

Exit codes are a contract (see README): 0 success, 1 a verification or ``check``
found a mismatch, 2 bad usage or bad input.  Everything the user can get wrong
raises :class:`UsageError`; the CLI prints its one-line message and exits 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar, overload

T = TypeVar("T")


class AlexprofError(Exception):
    """Base class: an expected failure with a one-line message."""

    exit_code = 2


class UsageError(AlexprofError):
    """Bad usage or bad input: an unknown name, a malformed value, a bad file."""

    exit_code = 2


class ShapeError(UsageError):
    """The input is too small (or wrong) for the network at a named layer."""


class CheckFailed(AlexprofError):
    """A verification or golden check found an unexplained difference."""

    exit_code = 1


@overload
def choose(
    table: Mapping[str, T], name: str, what: str, hint: str = "", *, option: bool = False
) -> T: ...
@overload
def choose(
    table: tuple[str, ...], name: str, what: str, hint: str = "", *, option: bool = False
) -> str: ...
def choose(
    table: Mapping[str, T] | tuple[str, ...],
    name: str,
    what: str,
    hint: str = "",
    *,
    option: bool = False,
) -> T | str:
    """``table[name]`` (for a tuple of names: ``name``), or a one-line UsageError:
    'unknown WHAT NAME (did you mean X?); valid: A, B' (plus ``hint``); with ``option``,
    WHAT is the option itself: '--dtype NAME (did you mean X?); valid: A, B'.
    The one lookup every named choice goes through."""
    if name in table:
        return table[name] if isinstance(table, Mapping) else name
    head = what if option else f"unknown {what}"
    raise UsageError(
        f"{head} {name!r}{closest(name, list(table))}; valid: {', '.join(table)}{hint}"
    )


def closest(name: str, choices: list[str]) -> str:
    """A ' (did you mean X?)' suffix naming the closest choice, or ''."""
    import difflib

    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def one_line(e: BaseException) -> str:
    """``Type: first line of the message``: how a failure in the user's code is named."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")
