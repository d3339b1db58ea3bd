"""Table columns, declared with what they hold, and the arithmetic that fits a table to a width.

Each :class:`Column` says how it may be squeezed: a ``NUMBER`` is never broken (its
grouped integers may be shortened to :func:`compact` form), a ``TOKEN`` is never
broken nor shortened, ``TEXT`` wraps at spaces.  :func:`plan` picks the mildest
:class:`Squeeze` that fits, splitting the columns into parts (each led by the first
column) only when one table cannot fit.  Widths are terminal cells, as rich counts
them.  Nothing here renders; :class:`alexprof.report.render.Table` draws the plan.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from alexprof.vocab import Vocab


def cell_len(text: str) -> int:
    """Terminal cells ``text`` takes (rich's measure; rich is imported only to fit a table)."""
    from rich.cells import cell_len as measure

    return measure(text)


FRAME_EDGE, FRAME_PER_COLUMN = 1, 3  # rich's box: a bar per column plus one, a space each side
GROUPED = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+)")  # 61,100,840 and +5,097,664
PREFIXES = ("", "k", "M", "G", "T")


class Kind(Vocab):
    """What a column holds, which decides how it may be squeezed to fit a width."""

    NUMBER = "number"  # 61,100,840; 4 KiB; 14.6%: never broken; grouped integers may be shortened
    TOKEN = "token"  # 3x224x224, ✓, conv1 (1.2 M): never broken, never shortened
    TEXT = "text"  # words: wrapped at spaces; a word is broken only as a last resort


class Align(Vocab):
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class Column:
    """One declared column: ``Column.num("params")``, ``Column.text("layer")``,
    ``Column.token("output")``."""

    header: str
    kind: Kind = Kind.TEXT
    align: Align = Align.LEFT

    def __post_init__(self) -> None:
        for name, enum in (("kind", Kind), ("align", Align)):
            value = getattr(self, name)
            if value not in {e.value for e in enum}:
                raise ValueError(
                    f"Column {self.header!r}: {name}={value!r}, expected one of "
                    f"{', '.join(e.value for e in enum)}"
                )
            object.__setattr__(self, name, enum(value))

    @classmethod
    def num(cls, header: str) -> Column:
        return cls(header, Kind.NUMBER, Align.RIGHT)

    @classmethod
    def text(cls, header: str) -> Column:
        return cls(header, Kind.TEXT, Align.LEFT)

    @classmethod
    def token(cls, header: str, align: Align | str = Align.LEFT) -> Column:
        return cls(header, Kind.TOKEN, Align(align))


def compact(n: int) -> str:
    """Four significant digits and an SI prefix: 101_632_000 -> '101.6 M',
    1_009_945_728 -> '1.010 G', 61_706 -> '61.71 k'; below 1000 unchanged."""
    if abs(n) < 1000:
        return str(n)
    power = min((len(str(abs(n))) - 1) // 3, len(PREFIXES) - 1)
    while True:
        value = n / 1000**power
        decimals = max(3 - (len(str(int(abs(value)))) - 1), 0)
        text = f"{value:.{decimals}f}"
        if abs(float(text)) < 1000 or power == len(PREFIXES) - 1:
            return f"{text} {PREFIXES[power]}"
        power += 1  # 999,950 rounds up to 1.000 M, not 1000.0 k


def compact_cell(cell: str) -> str:
    """'61,100,840' -> '61.10 M', '+5,097,664' -> '+5.098 M'; any other cell unchanged."""
    match = GROUPED.fullmatch(cell)
    if match is None:
        return cell
    sign, digits = match.groups()
    return ("+" if sign == "+" else "") + compact(int(sign + digits.replace(",", "")))


@dataclass(frozen=True)
class Squeeze:
    """How hard a table is squeezed; the caption states each step taken."""

    compact: bool = False  # grouped integers of NUMBER columns in compact() form
    fold_headers: bool = False  # a header word may break, into two pieces at most
    fold_words: bool = False  # a TEXT word may break likewise (the last resort)


LADDER = (Squeeze(), Squeeze(compact=True), Squeeze(compact=True, fold_headers=True))
LAST_RESORT = Squeeze(compact=True, fold_headers=True, fold_words=True)


@dataclass(frozen=True)
class Part:
    """Some of the columns (by index, the key columns always included) and their widths."""

    columns: tuple[int, ...]
    widths: tuple[int, ...]  # content cells, padding and bars excluded


@dataclass(frozen=True)
class Plan:
    squeeze: Squeeze
    parts: tuple[Part, ...]
    fits: bool  # False: even the last resort is wider than asked (stated in the caption)


def frame(columns: int) -> int:
    return FRAME_PER_COLUMN * columns + FRAME_EDGE


def _word_min(text: str, fold: bool) -> int:
    longest = max((cell_len(w) for w in text.split()), default=0)
    return -(-longest // 2) if fold else longest


def bounds(column: Column, cells: Sequence[str], squeeze: Squeeze) -> tuple[int, int]:
    """(narrowest, natural) content width of one column under ``squeeze``."""
    natural = max([cell_len(column.header), *map(cell_len, cells)])
    if column.kind is Kind.TEXT:
        body = max((_word_min(c, squeeze.fold_words) for c in cells), default=0)
    else:
        body = max((cell_len(c) for c in cells), default=0)
    return max(_word_min(column.header, squeeze.fold_headers), body, 1), max(natural, 1)


def squeezed(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], squeeze: Squeeze
) -> list[list[str]]:
    """``rows`` as printed under ``squeeze`` (grouped integers shortened where asked)."""
    if not squeeze.compact:
        return [list(r) for r in rows]
    return [
        [compact_cell(c) if col.kind is Kind.NUMBER else c for col, c in zip(columns, r)]
        for r in rows
    ]


def allocate(spans: Sequence[tuple[int, int]], room: int) -> tuple[int, ...] | None:
    """Content widths within ``room``: every column its minimum, then the spare cells
    to the columns short of their natural width, the widest shortfall cut first."""
    low = sum(lo for lo, _ in spans)
    if low > room:
        return None
    want = [hi - lo for lo, hi in spans]
    spare = room - low
    level = max(
        (lv for lv in range(max(want) + 1) if sum(min(w, lv) for w in want) <= spare), default=0
    )
    widths = [lo + min(w, level) for (lo, _), w in zip(spans, want)]
    left = room - sum(widths)
    for i, w in enumerate(want):
        if left and w > level:
            widths[i] += 1
            left -= 1
    return tuple(widths)


def split(
    spans: Sequence[tuple[int, int]], width: int, key: int = 1
) -> list[tuple[int, ...]] | None:
    """Column indices per part: the ``key`` leading columns, then consecutive others.

    As few parts as fit (greedy filling finds that number), and of those splits the one
    leaving the tightest part the most spare cells; None when the key columns and some
    single other column are too wide together."""

    def spare(idx: Sequence[int]) -> int:
        return width - sum(spans[i][0] for i in idx) - frame(len(idx))

    lead, rest = tuple(range(key)), range(key, len(spans))
    if spare(lead) < 0 or any(spare((*lead, i)) < 0 for i in rest):
        return None
    count, used = 1, list(lead)
    for i in rest:
        if spare([*used, i]) >= 0:
            used.append(i)
        else:
            count, used = count + 1, [*lead, i]
    cuts = itertools.combinations(range(key + 1, len(spans)), count - 1)
    splits = [
        [lead + tuple(range(a, b)) for a, b in zip((key, *c), (*c, len(spans)))] for c in cuts
    ]
    return max(
        (s for s in splits if all(spare(p) >= 0 for p in s)), key=lambda s: min(spare(p) for p in s)
    )


def _spans(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], squeeze: Squeeze
) -> list[tuple[int, int]]:
    cells = squeezed(columns, rows, squeeze)
    return [bounds(col, [r[i] for r in cells], squeeze) for i, col in enumerate(columns)]


def _layout(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, squeeze: Squeeze, key: int
) -> tuple[Part, ...] | None:
    spans = _spans(columns, rows, squeeze)
    groups = split(spans, width, key)
    if groups is None:
        return None
    parts = []
    for idx in groups:
        widths = allocate([spans[i] for i in idx], width - frame(len(idx)))
        assert widths is not None  # split() admitted it
        parts.append(Part(idx, widths))
    return tuple(parts)


def plan(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, key: int = 1
) -> Plan:
    """The fewest parts that fit ``width``, squeezed no harder than that needs.

    ``rows`` are every printed row (body and total), one cell per column; the ``key``
    leading columns name a row and lead every part."""
    key = min(max(key, 1), len(columns))
    tried = [(sq, _layout(columns, rows, width, sq, key)) for sq in LADDER]
    found = [(len(parts), i) for i, (_, parts) in enumerate(tried) if parts]
    if found:
        squeeze, parts = tried[min(found)[1]]
        assert parts is not None
        return Plan(squeeze, parts, True)
    parts = _layout(columns, rows, width, LAST_RESORT, key)
    if parts is not None:
        return Plan(LAST_RESORT, parts, True)
    spans = _spans(columns, rows, LAST_RESORT)
    return Plan(
        LAST_RESORT, (Part(tuple(range(len(columns))), tuple(lo for lo, _ in spans)),), False
    )


def notes(
    p: Plan, columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, key: int = 1
) -> list[str]:
    """What fitting did to this table, in sentences for its caption: only what happened."""
    cells = squeezed(columns, rows, p.squeeze)
    placed = [(i, w) for q in p.parts for i, w in zip(q.columns, q.widths)]
    out = []
    if cells != [list(r) for r in rows]:
        out.append(
            f"Numbers shortened to fit {width} columns: 4 significant digits, k M G T = "
            "10^3 10^6 10^9 10^12; --format json or a wider terminal shows them in full."
        )
    if any(_word_min(columns[i].header, False) > w for i, w in placed):
        out.append("Long column headers broken.")
    if any(
        _word_min(r[i], False) > w for i, w in placed if columns[i].kind is Kind.TEXT for r in cells
    ):
        out.append("Words longer than their column broken.")
    if len(p.parts) > 1:
        led = " and ".join(f"'{c.header}'" for c in columns[:key])
        out.append(f"Columns in {len(p.parts)} parts to fit {width} columns, each led by {led}.")
    if not p.fits:
        out.append(f"Still wider than {width} columns: too many columns to fit.")
    return out


def wrap_words(line: str, width: int, indent: int = 2) -> list[str]:
    """Greedy word wrap to ``width`` cells, continuation lines indented by ``indent``;
    a word wider than a line is broken (the only place a break is not at a space)."""
    out: list[str] = []
    current = ""
    for word in line.split():
        room = width - (indent if out else 0)
        joined = f"{current} {word}" if current else word
        if cell_len(joined) <= room:
            current = joined
            continue
        if current:
            out.append(current)
            room = width - indent
        while cell_len(word) > room:
            head = _prefix(word, room)
            out.append(head)
            word, room = word[len(head) :], width - indent
        current = word
    out.append(current)
    return [out[0]] + [" " * indent + rest for rest in out[1:]]


def _prefix(word: str, room: int) -> str:
    """The longest start of ``word`` that fits ``room`` cells (at least one character)."""
    for end in range(len(word), 0, -1):
        if cell_len(word[:end]) <= room:
            return word[:end]
    return word[:1]
