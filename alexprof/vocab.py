"""The base of every named vocabulary in alexprof: a ``str`` enum that reads as its value.

A vocabulary (memory :class:`~alexprof.memory.vocab.Category` and
:class:`~alexprof.memory.vocab.Holder`, training :class:`~alexprof.memory.stages.Stage`,
check :class:`~alexprof.report.status.CheckStatus` and
:class:`~alexprof.report.status.StageStatus`) is documented once, in its class docstring,
one line per member, as PyTorch's ``mem_tracker._MemRefType`` is.  Its members are
strings: ``json.dumps``, ``csv``, ``str()`` and f-strings give the value (``"forward"``),
never ``Stage.FORWARD``, so documents and tables read as plain words, and a member
equals its value (``Stage.FORWARD == "forward"``).  Python 3.11's ``StrEnum`` does the
same; this base also runs on 3.10.  No torch.
"""

from __future__ import annotations

from enum import Enum


class Vocab(str, Enum):
    """A ``str`` enum whose members print, format and serialise as their value."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str.__str__(self), spec)
