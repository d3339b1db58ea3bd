"""Declared columns, the compact number form, the fitting plan and the one width decision."""

from __future__ import annotations

import os
import sys

import pytest
from rich.cells import cell_len

from alexprof.report import render
from alexprof.report.columns import (Align, Column, Kind, Squeeze, compact, compact_cell, frame, notes,
                              plan, wrap_words)
from alexprof.report.render import Table, table_width, target_width


@pytest.mark.parametrize("n, text", [
    (999, "999"),
    (1_000, "1.000 k"),
    (61_706, "61.71 k"),  # lenet5's parameters
    (101_616_768, "101.6 M"),  # alexnet conv1 MACs
    (1_009_945_728, "1.010 G"),  # alexnet MACs: 1.0099 rounds up to 1.010
    (999_950, "1.000 M"),  # 999.95 k would round to 1000.0 k: carried to the next prefix
    (-193_960_000, "-194.0 M"),
    (15_470_264_320, "15.47 G"),
    (2 ** 50, "1126 T"),  # 1,125,899,906,842,624: no prefix above T, no decimals left
])
def test_compact_keeps_four_significant_digits(n: int, text: str) -> None:
    assert compact(n) == text


@pytest.mark.parametrize("cell, text", [
    ("61,100,840", "61.10 M"),
    ("+5,097,664", "+5.098 M"),  # signed diffs keep their sign
    ("-1,440,768", "-1.441 M"),
    ("588.5 KiB", "588.5 KiB"),  # already a short quantity
    ("14.6%", "14.6%"),
    ("0", "0"),
    ("-", "-"),
    ("12,34", "12,34"),  # not a grouped integer
])
def test_compact_cell_touches_grouped_integers_only(cell: str, text: str) -> None:
    assert compact_cell(cell) == text


def test_column_declarations() -> None:
    assert Column.num("params") == Column("params", Kind.NUMBER, Align.RIGHT)
    assert Column.text("layer") == Column("layer", "text", "left")
    assert Column.token("✓", align="right").align is Align.RIGHT
    assert Column("params", align="right").align is Align.RIGHT
    with pytest.raises(ValueError, match="align='middle'"):
        Column("params", align="middle")
    with pytest.raises(ValueError, match="kind='integer'"):
        Column("params", kind="integer")


def test_plain_headers_are_text_and_markdown_alignment_follows_declarations() -> None:
    t = Table("t", ["layer", Column.num("params")])
    t.add("conv1", "34,944")
    assert t.columns[0] == Column.text("layer")
    assert t.to_text("markdown").splitlines()[3] == "|---|---:|"


WORDS = ("Verified against: torch = numel() of each module's weight and bias; flopcounter = "
         "torch.utils.flop_counter.FlopCounterMode, one training step.")


@pytest.mark.parametrize("width", [20, 40, 80])
def test_wrap_words_breaks_at_spaces_and_indents(width: int) -> None:
    lines = wrap_words(WORDS, width)
    assert all(cell_len(line) <= width for line in lines)
    assert all(line.startswith("  ") for line in lines[1:])
    if width > len("torch.utils.flop_counter.FlopCounterMode,") + 2:
        assert " ".join(line.strip() for line in lines) == WORDS


def test_wrap_words_breaks_a_word_only_when_wider_than_a_line() -> None:
    assert wrap_words("ab cdefghijkl", 6) == ["ab", "  cdef", "  ghij", "  kl"]
    assert wrap_words("short", 80) == ["short"]


def _table(widths: list[int], kinds: str) -> tuple[list[Column], list[list[str]]]:
    """One row of cells 'xxx…' of the given widths; kinds: n number, t text, k token."""
    make = {"n": Column.num, "t": Column.text, "k": Column.token}
    cols = [make[k](f"c{i}") for i, k in enumerate(kinds)]
    return cols, [["x" * w for w in widths]]


def test_plan_keeps_natural_widths_when_they_fit() -> None:
    cols, rows = _table([10, 10, 10], "knn")
    p = plan(cols, rows, 80)
    assert p.squeeze == Squeeze() and [q.widths for q in p.parts] == [(10, 10, 10)]


def test_plan_wraps_text_before_anything_else() -> None:
    cols, rows = [Column.text("a"), Column.num("b")], [["word " * 20, "1,234,567"]]
    p = plan(cols, rows, 40)
    assert p.squeeze == Squeeze() and len(p.parts) == 1
    assert sum(p.parts[0].widths) + frame(2) == 40  # text takes what the number leaves
    assert p.parts[0].widths[1] == len("1,234,567")


def test_plan_shortens_numbers_before_splitting() -> None:
    cols = [Column.text("layer"), *(Column.num(f"n{i}") for i in range(5))]
    rows = [["conv1", *["101,616,768"] * 5]]  # 5 + 5 x 11 + frame(6) = 79 > 70
    p = plan(cols, rows, 70)
    assert p.squeeze.compact and len(p.parts) == 1  # 5 + 5 x 7 + 19 = 59


def test_plan_splits_into_parts_led_by_the_key() -> None:
    cols, rows = _table([8, 6, 30, 30, 30], "ttkkk")
    p = plan(cols, rows, 80, key=2)
    # 8 + 6 + 30 + frame(3) = 54 fits 80; a second token: 84 + frame(4) = 97 does not
    assert [q.columns for q in p.parts] == [(0, 1, 2), (0, 1, 3), (0, 1, 4)]
    assert all(sum(q.widths) + frame(len(q.widths)) <= 80 for q in p.parts)
    assert sorted({i for q in p.parts for i in q.columns}) == [0, 1, 2, 3, 4]  # none dropped


def test_notes_state_only_what_was_done() -> None:
    cols, rows = _table([8, 6, 30, 30, 30], "ttkkk")
    p = plan(cols, rows, 80, key=2)
    assert notes(p, cols, rows, 80, key=2) == [
        "Columns in 3 parts to fit 80 columns, each led by 'c0' and 'c1'."]


def test_headers_fold_before_a_table_is_split() -> None:
    cols = [Column.text("l"), *(Column.num(f"throughput{i}") for i in range(3))]
    rows = [["a", "1", "2", "3"]]  # headers: 1 + 3 x 11 + frame(4) = 47 > 40
    p = plan(cols, rows, 40)
    assert len(p.parts) == 1 and p.squeeze.fold_headers  # 1 + 3 x 6 + 13 = 32
    assert notes(p, cols, rows, 40) == ["Long column headers broken."]
    t = Table("t", cols)
    t.add(*rows[0])
    with table_width(40):
        out = t.to_text("table")
    assert max(map(cell_len, out.splitlines())) <= 40 and "Long column headers broken." in out


def test_plan_says_when_it_cannot_fit() -> None:
    cols, rows = _table([50, 50], "kk")
    assert not plan(cols, rows, 80).fits  # 50 + 50 + frame(2) = 107: tokens never break


def test_rendered_split_table_fits_and_states_it() -> None:
    t = Table("wide", [Column.text("layer"), *(Column.token(f"t{i}") for i in range(4))],
              caption="a caption")
    t.add("conv1", *["x" * 20] * 4)
    t.footer.append("one footer line")
    with table_width(60):
        out = t.to_text("table")
    lines = out.splitlines()
    assert max(map(cell_len, lines)) <= 60
    words = " ".join(out.split())  # the caption wraps at the parts' width
    assert "(continued: part 2 of 2)" in words and "2 parts to fit 60 columns, each led by 'layer'" in words
    assert out.count("x" * 20) == 4 and lines[-1] == "one footer line"


def test_target_width_env_terminal_and_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert target_width() is None  # pytest's stdout is not a terminal: natural width
    monkeypatch.setenv("COLUMNS", "100")
    assert target_width() == 100
    with table_width(None):
        assert target_width() is None  # pinned, e.g. for --output
    monkeypatch.setenv("COLUMNS", "wide")
    assert target_width() is None  # not a width: ignored


class _Terminal:
    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return 1


def test_target_width_reads_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys, "stdout", _Terminal())
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((132, 40)))
    assert target_width() == 132
    monkeypatch.setenv("COLUMNS", "90")
    assert target_width() == 90  # COLUMNS wins, as in shutil.get_terminal_size

    def unreadable(fd: int) -> os.terminal_size:
        raise OSError("no size")

    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr(os, "get_terminal_size", unreadable)
    assert target_width() == 80


def test_prose_wraps_only_when_fitting() -> None:
    lines = ["a " * 50 + "end", "short"]
    with table_width(None):
        assert render.prose(lines) == "".join(f"{line}\n" for line in lines)
    with table_width(40):
        out = render.prose(lines).splitlines()
    assert max(map(len, out)) <= 40 and out[-1] == "short"
