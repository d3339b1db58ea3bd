"""One parser per kind of value a user types: counts, numbers, shapes, batch lists, sizes.

Pure functions from the text on the command line to a value (no torch, no typer).
Each raises :class:`~alexprof.errors.UsageError` with one line that names the
option, repeats the bad text and says what is valid; the CLI prints it and
exits 2.  The wording of every message is part of the CLI's contract (tests and
users match on it), so the functions below keep it exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from alexprof.errors import UsageError

Shape = tuple[int, ...]  # per sample: (C, H, W)

SIZE_UNITS = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}
_SIZE = r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$"  # a number, then a unit (re caches it)


class _NotPositive(ValueError):
    """What is wrong with one integer, worded without the option (callers add it)."""


def _positive(text: str, hint: str) -> int:
    """int(text) when it is at least 1 (Python's int(): ' 7 ', '+7', '1_000' are integers)."""
    try:
        value = int(text)
    except ValueError:
        raise _NotPositive(f"{text!r} is not an integer; give {hint}") from None
    if value < 1:
        raise _NotPositive(f"{value} must be a positive integer")
    return value


def positive_int(text: str, flag: str, example: str = "32") -> int:
    """'32' -> 32.  "--batch 'x' is not an integer; give a positive integer such as 32",
    "--batch 0 must be a positive integer"."""
    try:
        return _positive(text, f"a positive integer such as {example}")
    except _NotPositive as e:
        raise UsageError(f"{flag} {e}") from None


def positive_count(text: str, flag: str, example: str = "5") -> int:
    """A positive integer worded as one sentence for both faults (roofline's --repeats and
    --threads): "--repeats 'x' must be a positive integer such as 5"."""
    try:
        return _positive(text, "")
    except _NotPositive:
        raise UsageError(f"{flag} {text!r} must be a positive integer such as {example}") from None


def batch_list(text: str, flag: str = "--batch") -> list[int]:
    """'1,8,32' -> [1, 8, 32] (one value is a list of one).
    "--batch '1,x': 'x' is not an integer; give N or a comma list such as 1,8,32"."""
    try:
        return [
            _positive(part.strip(), "N or a comma list such as 1,8,32") for part in text.split(",")
        ]
    except _NotPositive as e:
        raise UsageError(f"{flag} {text!r}: {e}") from None


def positive_number(text: str, flag: str, example: str) -> float:
    """'19.5' -> 19.5; finite and above 0 (so not 'nan', 'inf', '0', '-1')."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a number; give e.g. {example}") from None
    if not value > 0 or math.isinf(value):
        raise UsageError(f"{flag} {text!r} must be a positive number such as {example}")
    return value


def shape(text: str, flag: str = "--input") -> Shape:
    """'3,224,224' or '3x224x224' -> (3, 224, 224): three positive integers C,H,W."""
    parts = [p.strip() for p in text.replace("x", ",").split(",")]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a shape; give C,H,W such as 3,224,224") from None
    if len(dims) != 3 or min(dims) < 1:
        raise UsageError(f"{flag} {text!r}: need three positive integers C,H,W such as 3,224,224")
    return dims


def byte_size(
    text: str,
    flag: str = "--memory",
    minimum: int = 1,
    named: Mapping[str, int] | None = None,
    named_hint: str = "",
) -> int:
    """'3GiB' -> 3*2**30, '16 GB' -> 16*10**9, '512' -> 512 bytes, or a name in ``named``
    (lower case name -> bytes; 0 when that name has no fixed size, as a CPU).
    ``named_hint`` ends the not-a-size message: where the names are listed."""
    named = named or {}
    key = text.strip().lower()
    if key in named:
        if not named[key]:
            raise UsageError(
                f"{flag} {text!r}: {key} has no fixed memory size; give a size such as 64GiB"
            )
        return named[key]
    match = re.match(_SIZE, text)
    unit = (match.group(2) or "B").upper() if match else ""
    if not match or unit not in SIZE_UNITS:
        raise UsageError(
            f"{flag} {text!r} is not a size; give a number and a unit (B, KB, MB, "
            f"GB, TB, KiB, MiB, GiB, TiB), e.g. 3GiB or 16GB{named_hint}"
        )
    value = float(match.group(1)) * SIZE_UNITS[unit]
    if value < minimum:
        raise UsageError(f"{flag} {text!r} must be at least {minimum} byte(s)")
    return int(value)
