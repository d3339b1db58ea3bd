"""How a check came out: the two status vocabularies and their marks.  No torch.

A verification (:mod:`alexprof.report.verify`) compares one field of one layer with a
peer; a memory stage check (:mod:`alexprof.report.memreport`) compares one stage with
the prediction.  Both say the same four things, marked the same way in every table:
equal (✓), explained by a named, counted difference (≈), not modelled by alexprof (?,
verification only), unexplained (✗, which fails the command with exit 1).  The values
are the words of the JSON documents, which differ only for "equal" (``match`` per
field, ``exact`` per stage).  Members are listed from best to worst.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from alexprof.vocab import Vocab

S = TypeVar("S", bound="Status")


class Status(Vocab):
    """The shared base: each member carries its table ``mark``; no members of its own."""

    mark: str  # ✓ ≈ ? ✗

    def __new__(cls, value: str, mark: str) -> Status:
        member = str.__new__(cls, value)
        member._value_ = value
        member.mark = mark
        return member

    @property
    def failed(self) -> bool:
        """The worst member (``mismatch``): an unexplained difference; the command exits 1."""
        return self is list(type(self))[-1]

    @classmethod
    def worst(cls: type[S], statuses: Iterable[S | None]) -> S | None:
        """The worst of ``statuses`` (the last in member order); None when there is none."""
        order = list(cls)
        return max((s for s in statuses if s is not None), key=order.index, default=None)


class CheckStatus(Status):
    """One field of one layer, analytic against a peer's measurement.

    - MATCH: the measured number equals the analytic one.
    - EXPLAINED: it differs by exactly what a named peer quirk predicts.
    - UNMODELLED: a row alexprof does not model (its numbers are torch's): reported, not failed.
    - MISMATCH: an unexplained difference.
    """

    MATCH = "match", "✓"
    EXPLAINED = "explained", "≈"
    UNMODELLED = "unmodelled", "?"
    MISMATCH = "mismatch", "✗"


class StageStatus(Status):
    """One stage of a training step, measured against the prediction.

    - EXACT: every measured number equals its prediction.
    - EXPLAINED: every difference is named and counted (kernel temporaries, whole cached blocks).
    - MISMATCH: an unexplained difference.
    """

    EXACT = "exact", "✓"
    EXPLAINED = "explained", "≈"
    MISMATCH = "mismatch", "✗"


def mark(status: Status | None) -> str:
    """The table mark of ``status``; '' where nothing was checked."""
    return "" if status is None else status.mark
