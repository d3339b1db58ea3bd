"""Every table and colour lives here: plain data in, text out.

Renderers take plain data (reports, verifications) and return text; only
:func:`alexprof.report.output.emit` writes it.  JSON keeps
integers as integers; human units appear only in tables.  A table fits
:func:`target_width` (a terminal's, or ``COLUMNS``) and keeps its natural width
when piped; its columns are declared (:class:`~alexprof.report.columns.Column`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from alexprof.errors import choose
from alexprof.nets.shapes import fmt_shape
from alexprof.report.columns import Align, Column, frame, notes, plan, squeezed, wrap_words

FORMATS = ("table", "json", "csv", "markdown")


def check_format(fmt: str) -> str:
    choose(dict.fromkeys(FORMATS), fmt, "format")
    return fmt


def human(n: float, unit: str = "") -> str:
    """1234567 -> '1.23 M' (tables only)."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {prefix}{unit}"
    return f"{n:g} {unit}".rstrip()


def share(part: int | None, whole: int) -> str:
    return f"{100.0 * (part or 0) / whole:.1f}%" if whole else "-"


def num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


class Table:
    """A renderer-neutral table: title, declared columns, rows, total row, footer lines.

    ``columns`` are :class:`Column` declarations (a plain string is ``Column.text``);
    alignment and how a column may be squeezed to fit a terminal come from them.  The
    ``key`` leading columns name a row: they lead every part when a table is split."""

    def __init__(
        self, title: str, columns: Sequence[Column | str], caption: str = "", key: int = 1
    ) -> None:
        self.title, self.caption, self.key = (
            title,
            caption,
            key,
        )  # key: leading columns naming a row
        self.columns = [c if isinstance(c, Column) else Column.text(c) for c in columns]
        self.rows: list[list[str]] = []
        self.total: list[str] | None = None
        self.footer: list[str] = []

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def add(self, *cells: Any) -> None:
        self.rows.append([str(c) for c in cells])

    def to_text(self, fmt: str, color: bool = False) -> str:
        if fmt == "markdown":
            return self._markdown()
        if fmt == "csv":
            return self._csv()
        return self._rich(color)

    def _rich(self, color: bool) -> str:
        from rich.console import Console

        width = target_width()
        if width is None:  # natural width, as piped output always had
            tables = [_rich_table(self.title, self.caption, self.columns, self.rows, self.total)]
            caption, shown = "", Console(width=10_000).measure(tables[0]).maximum
        else:
            tables, caption, shown = self._fitted(width)
        buf = io.StringIO()
        console = Console(
            file=buf,
            width=shown if width is None else width,
            force_terminal=color,
            color_system="auto" if color else None,
            highlight=False,
        )
        for i, table in enumerate(tables):
            if i:
                console.print()
            console.print(table)
        if caption:
            console.print(caption, width=shown, style="table.caption", justify="left")
        for line in self.footer:
            for piece in [line] if width is None else wrap_words(line, width):
                console.print(piece, soft_wrap=True)
        return buf.getvalue()

    def _fitted(self, width: int) -> tuple[list[Any], str, int]:
        """Rich tables within ``width`` (one, or parts led by the key columns), the
        caption to print below them (with every step taken to fit) and its width."""
        n = len(self.columns)
        printed = [(r + [""] * n)[:n] for r in self.rows + ([self.total] if self.total else [])]
        p = plan(self.columns, printed, width, self.key)
        cells = squeezed(self.columns, printed, p.squeeze)
        body, total = (cells[:-1], cells[-1]) if self.total else (cells, None)
        tables = []
        for k, part in enumerate(p.parts):
            pick = part.columns
            tables.append(
                _rich_table(
                    self.title if k == 0 else f"(continued: part {k + 1} of {len(p.parts)})",
                    "",
                    [self.columns[i] for i in pick],
                    [[r[i] for i in pick] for r in body],
                    total and [total[i] for i in pick],
                    part.widths,
                )
            )
        said = notes(p, self.columns, printed, width, self.key)
        caption = "\n".join(c for c in [self.caption, *said] if c)
        return tables, caption, max(sum(q.widths) + frame(len(q.widths)) for q in p.parts)

    def _markdown(self) -> str:
        out = [
            f"**{self.title}**",
            "",
            "| " + " | ".join(self.headers) + " |",
            "|" + "|".join("---:" if c.align is Align.RIGHT else "---" for c in self.columns) + "|",
        ]
        out += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.total:
            out.append("| " + " | ".join(f"**{c}**" if c else "" for c in self.total) + " |")
        if self.caption:
            out += ["", f"_{self.caption}_"]
        out += [""] + [f"- {line}" for line in self.footer] if self.footer else []
        return "\n".join(out) + "\n"

    def _csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.headers)
        writer.writerows([[c.replace(",", "") for c in r] for r in self.rows])
        return buf.getvalue()


def _rich_table(
    title: str,
    caption: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    total: Sequence[str] | None,
    widths: Sequence[int] | None = None,
) -> Any:
    """A rich table; ``widths`` (content cells per column) fixes each column's width,
    text folding within it; None leaves rich its natural widths."""
    from rich.table import Table as RichTable

    table = RichTable(
        title=title,
        caption=caption,
        caption_justify="left",
        show_footer=total is not None,
        header_style="bold",
    )
    for i, col in enumerate(columns):
        fixed: dict[str, Any] = {} if widths is None else {"width": widths[i], "overflow": "fold"}
        table.add_column(
            col.header, footer=total[i] if total else "", justify=col.align.value, **fixed
        )
    for row in rows:
        table.add_row(*row)
    return table


_PINNED: ContextVar[int | str | None] = ContextVar("alexprof_table_width", default="auto")


def target_width() -> int | None:
    """The width every table must fit, or None for its natural width.  The one place
    that decides it:

    1. a width pinned by :func:`table_width` (tests; a caller writing ``--output``);
    2. ``COLUMNS`` when it is a positive integer: the user's (or a test's) explicit
       width, honoured even when piped, as :func:`shutil.get_terminal_size` does.  Rich
       would read it too, but only for a console left without a width; ours always get one;
    3. the terminal's width when stdout is a terminal (:func:`os.get_terminal_size`,
       which reads the device and ignores ``COLUMNS``), 80 if it cannot be read;
    4. otherwise None: piped or redirected output keeps every table at its natural
       width, the same bytes whatever terminal ran the command.
    """
    pinned = _PINNED.get()
    if pinned != "auto":
        return pinned if isinstance(pinned, int) else None
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    stdout = sys.stdout
    if stdout is None or not stdout.isatty():
        return None
    try:
        return os.get_terminal_size(stdout.fileno()).columns
    except (OSError, ValueError):
        return 80


@contextmanager
def table_width(width: int | None) -> Iterator[None]:
    """Tables rendered inside fit ``width`` (None: natural width), whatever the terminal."""
    token = _PINNED.set(width)
    try:
        yield
    finally:
        _PINNED.reset(token)


def prose(lines: Sequence[str]) -> str:
    """Plain lines outside a table, fitted as table footers are: each wrapped at spaces
    to :func:`target_width` (continuations indented two), unchanged at natural width."""
    width = target_width()
    return "".join(
        f"{piece}\n"
        for line in lines
        for piece in ([line] if width is None else wrap_words(line, width))
    )


def csv_records(records: list[dict[str, Any]]) -> str:
    """Machine CSV: one line per record, raw integers, shapes as 'CxHxW'."""
    if not records:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow(
            {k: fmt_shape(tuple(v)) if isinstance(v, (list, tuple)) else v for k, v in rec.items()}
        )
    return buf.getvalue()


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"
