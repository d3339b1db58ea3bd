"""What leaves the process: text to stdout or atomically to ``--output``, and error lines.

A file is written to a temporary name beside it and renamed over it (all or nothing);
an existing file is replaced only when asked (``--force``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alexprof.errors import UsageError
from alexprof.report.render import table_width


def emit(text: str | Callable[[], str], output: Path | None, force: bool = False) -> None:
    """Print, or write ``output`` atomically (temp file + rename).

    ``text`` may be the renderer itself: it then renders here, and for ``output`` at the
    tables' natural width (a file is not the terminal it was asked from).  An existing
    file is never replaced unless ``force`` is given.
    """
    if output is None:
        sys.stdout.write(text if isinstance(text, str) else text())
        return
    check_target(output, force)
    if not isinstance(text, str):
        with table_width(None):
            text = text()
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
