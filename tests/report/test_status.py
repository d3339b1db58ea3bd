"""Check statuses: values (the JSON words), marks, order from best to worst.  No torch."""

from __future__ import annotations

from alexprof.report.status import CheckStatus, StageStatus, mark


def test_values_and_marks() -> None:
    assert [(s.value, s.mark) for s in CheckStatus] == [
        ("match", "✓"), ("explained", "≈"), ("unmodelled", "?"), ("mismatch", "✗")]
    assert [(s.value, s.mark) for s in StageStatus] == [
        ("exact", "✓"), ("explained", "≈"), ("mismatch", "✗")]
    assert mark(None) == "" and mark(CheckStatus.UNMODELLED) == "?"


def test_only_the_worst_fails() -> None:
    assert [s.failed for s in CheckStatus] == [False, False, False, True]
    assert [s.failed for s in StageStatus] == [False, False, True]


def test_worst() -> None:
    assert CheckStatus.worst([]) is None
    assert CheckStatus.worst([None, CheckStatus.MATCH]) is CheckStatus.MATCH
    assert CheckStatus.worst([CheckStatus.MISMATCH, CheckStatus.UNMODELLED,
                              CheckStatus.EXPLAINED]) is CheckStatus.MISMATCH
    assert CheckStatus.worst([CheckStatus.EXPLAINED, CheckStatus.UNMODELLED]) is CheckStatus.UNMODELLED
    assert StageStatus.worst([StageStatus.EXACT, StageStatus.EXPLAINED]) is StageStatus.EXPLAINED
