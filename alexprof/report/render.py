"""Every table, colour, file write and error line lives here.

Renderers take plain data (reports, verifications) and return text; only
:func:`emit` writes, to stdout or atomically to ``--output``.  JSON keeps
integers as integers; human units appear only in tables.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from alexprof.errors import UsageError, choose
from alexprof.nets.shapes import fmt_shape

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
    """A renderer-neutral table: title, header, rows, footer lines."""

    def __init__(self, title: str, columns: list[str], caption: str = "") -> None:
        self.title, self.columns, self.caption = title, columns, caption
        self.rows: list[list[str]] = []
        self.total: list[str] | None = None
        self.footer: list[str] = []
        self.right = {i for i, c in enumerate(columns) if c not in ("layer", "type", "output", "model", "stage", "bound", "largest layer")}

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
        from rich.table import Table as RichTable

        table = RichTable(title=self.title, caption=self.caption, caption_justify="left",
                          show_footer=self.total is not None, header_style="bold")
        for i, col in enumerate(self.columns):
            footer = self.total[i] if self.total else ""
            table.add_column(col, footer=footer, justify="right" if i in self.right else "left")
        for row in self.rows:
            table.add_row(*row)
        natural = Console(width=10_000).measure(table).maximum  # never truncate a number
        buf = io.StringIO()
        console = Console(file=buf, width=max(natural, _width()), force_terminal=color,
                          color_system="auto" if color else None, highlight=False)
        console.print(table)
        for line in self.footer:
            console.print(line, soft_wrap=True)
        return buf.getvalue()

    def _markdown(self) -> str:
        out = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |",
               "|" + "|".join("---:" if i in self.right else "---" for i in range(len(self.columns))) + "|"]
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
        writer.writerow(self.columns)
        writer.writerows([[c.replace(",", "") for c in r] for r in self.rows])
        return buf.getvalue()


def _width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 120


def csv_records(records: list[dict[str, Any]]) -> str:
    """Machine CSV: one line per record, raw integers, shapes as 'CxHxW'."""
    if not records:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: fmt_shape(tuple(v)) if isinstance(v, (list, tuple)) else v
                         for k, v in rec.items()})
    return buf.getvalue()


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def emit(text: str, output: Path | None, force: bool = False) -> None:
    """Print, or write ``output`` atomically (temp file + rename).

    An existing file is never replaced unless ``force`` is given.
    """
    if output is None:
        sys.stdout.write(text)
        return
    write_atomic(output, text, force)
    print(f"wrote {output}", file=sys.stderr)


def write_atomic(path: Path, text: str, replace: bool) -> None:
    check_target(path, replace)
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def check_target(path: Path, replace: bool, option: str = "--output") -> None:
    """Refuse before any work: an existing file (unless ``replace``), a directory,
    or a missing parent directory."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file name")
    if path.exists() and not replace:
        raise UsageError(f"{option} {path} exists; pass --force to replace it")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: directory {parent} does not exist")


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``
    (all or nothing), on failure remove it.  The file gets the usual mode
    (0666 less the umask), not mkstemp's 0600."""
    parent = path.parent if str(path.parent) else Path(".")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=parent)
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def error_line(message: str) -> None:
    print(f"alexprof: error: {message}", file=sys.stderr)
