"""Tables fit the terminal: the real commands through the real entry point, at a fixed
width (COLUMNS), checked line by line; piped output (COLUMNS unset) is unchanged."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import pytest
from rich.cells import cell_len

from alexprof.report import render
from alexprof.report.columns import Kind, compact, compact_cell
from alexprof.report.memviews import size

from tests.conftest import GOLDEN

SHORTENED = "Numbers shortened to fit {width} columns"

COMMANDS: dict[str, list[str]] = {
    "params": ["params", "alexnet"],
    "flops": ["flops", "alexnet"],
    "flops-verify": ["flops", "alexnet-2012", "--verify"],  # runs torch and the peers
    "memtrace-cpu": ["memtrace", "--device", "cpu", "-b", "2", "alexnet"],  # measured
    "memtrace-predict": ["memtrace", "--predict-only", "alexnet"],
    "memtrace-sweep": ["memtrace", "--predict-only", "-b", "1,2,4", "alexnet"],
    "roofline": ["roofline", "alexnet", "-H", "gtx580"],
    "roofline-measure": ["roofline", "alexnet-torchvision", "-H", "gtx580", "--input", "3,64,64",
                         "--measure", "--repeats", "1", "--device", "cpu"],
    "compare": ["compare", "lenet5", "alexnet", "vgg16", "googlenet"],
    "fit": ["fit", "alexnet-2012", "--memory", "gtx580"],
    "models": ["models"],
    "hardware": ["roofline", "--list-hardware"],
}
MEASURED = {"memtrace-cpu", "roofline-measure"}  # numbers differ from run to run
JSON_COMMANDS = {  # the same numbers without measuring again
    "memtrace-cpu": ["memtrace", "--device", "cpu", "-b", "2", "alexnet", "--predict-only"],
}


def _grouped(n: int) -> str:
    return f"{n:,}"


def _layers(doc: dict[str, Any], *fields: str) -> list[int]:
    rows = doc["layers"] + [doc["totals"]]
    return [row[f] for row in rows for f in fields]


def _hardware(doc: dict[str, Any]) -> list[str]:
    return [render.human(d["bandwidth"], "B/s") for d in doc["hardware"]]


def _memtrace(doc: dict[str, Any]) -> list[int | str]:
    breakdown = [n for k, n in doc["breakdown"].items() if k != "kept" and n]
    return breakdown + [size(s["predicted"]) for s in doc["stages"]]


# What each command's table shows of its JSON: integers (grouped, or compact when the
# output says so) and formatted quantities (as they are).
SHOWN: dict[str, Callable[[dict[str, Any]], list[int | str]]] = {
    "params": lambda d: _layers(d, "weights", "bias", "params"),
    "flops": lambda d: _layers(d, "macs", "flops", "flops_backward"),
    "flops-verify": lambda d: _layers(d, "macs", "flops", "flops_backward"),
    "memtrace-cpu": lambda d: [n for k, n in d["breakdown"].items() if k != "kept" and n]
    + [size(s["predicted"]) for s in d["stages"]],
    "memtrace-predict": _memtrace,
    "memtrace-sweep": lambda d: [size(r["peak_predicted"]) for r in d["runs"]],
    "roofline": lambda d: [x[f] for x in d["layers"] for f in ("flops", "bytes")],
    "roofline-measure": lambda d: [x[f] for x in d["layers"] for f in ("flops", "bytes")],
    "compare": lambda d: [m[f] for m in d["models"] for f in ("params", "macs")],
    "fit": lambda d: [n for n in d["breakdown"].values() if n]
    + [size(s["predicted"]) for s in d["stages"]],
    "models": lambda d: [m[f] for m in d["models"] for f in ("params", "macs")],
    "hardware": _hardware,
}


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[render.Table]]:
    """Every Table a command renders, in order (spying on Table.to_text)."""
    seen: list[render.Table] = []
    original = render.Table.to_text

    def spy(self: render.Table, fmt: str, color: bool = False) -> str:
        seen.append(self)
        return original(self, fmt, color)

    monkeypatch.setattr(render.Table, "to_text", spy)
    yield seen


_JSON: dict[str, dict[str, Any]] = {}


def _json(cli, name: str) -> dict[str, Any]:
    if name not in _JSON:
        result = cli(*JSON_COMMANDS.get(name, COMMANDS[name]), "--format", "json")
        assert result.code == 0, result.err
        _JSON[name] = result.json()
    return _JSON[name]


def _table_lines(name: str, out: str) -> list[str]:
    """The lines of the tables; fit's two summary lines before them are not a table."""
    return out.split("\n\n", 1)[1].splitlines() if name == "fit" else out.splitlines()


def _on_a_line(token: str, lines: list[str]) -> bool:
    pattern = re.compile(rf"(?<![\d,.]){re.escape(token)}(?![\d,])")
    return any(pattern.search(line) for line in lines)


def _assert_numbers_whole(values: list[int | str], out: str, width: int) -> None:
    lines, stated = out.splitlines(), SHORTENED.format(width=width) in out
    for v in values:
        if isinstance(v, str):
            assert _on_a_line(v, lines), f"{v!r} is broken or missing"
        elif abs(v) >= 1000:
            whole = _on_a_line(_grouped(v), lines)
            assert whole or (stated and _on_a_line(compact(v), lines)), \
                f"{v:,} is broken or missing (shortened form {compact(v)!r}, stated: {stated})"


def _assert_cells_whole(seen: list[render.Table], out: str, width: int) -> None:
    """Every cell of a number or token column is printed unbroken on one line."""
    lines, stated = out.splitlines(), SHORTENED.format(width=width) in out
    for table in seen:
        rows = table.rows + ([table.total] if table.total else [])
        for i, col in enumerate(table.columns):
            if col.kind is Kind.TEXT:
                continue
            for cell in {r[i] for r in rows if r[i]}:
                short = stated and col.kind is Kind.NUMBER and _on_a_line(compact_cell(cell), lines)
                assert any(cell in line for line in lines) or short, (table.title, col.header, cell)


def _assert_footers_at_spaces(seen: list[render.Table], out: str, width: int) -> None:
    """Each footer is printed as consecutive lines, continuations indented by two,
    broken only at spaces: rejoined at single spaces they give the footer back."""
    lines = out.splitlines()
    for table in seen:
        for footer in table.footer:
            target = " ".join(footer.split())
            first = target.split(" ", 1)[0]
            assert any(_rejoins(lines[i:], target) for i, line in enumerate(lines)
                       if line.startswith(first)), f"footer not found whole: {footer[:60]!r}"


def _rejoins(lines: list[str], target: str) -> bool:
    joined = lines[0]
    for line in lines[1:]:
        if len(joined) >= len(target) or not line.startswith("  "):
            break
        joined += " " + line.strip()
    return joined == target


@pytest.mark.parametrize("width", [80, 100, 120])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_line_fits_and_no_number_is_broken(cli, tables, monkeypatch: pytest.MonkeyPatch,
                                                 name: str, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    result = cli(*COMMANDS[name])
    assert result.code == 0, result.err
    widest = max(_table_lines(name, result.out), key=cell_len)
    assert cell_len(widest) <= width, f"{cell_len(widest)} > {width}: {widest!r}"
    assert tables, "the command rendered no table"
    _assert_numbers_whole(SHOWN[name](_json(cli, name)), result.out, width)
    _assert_cells_whole(tables, result.out, width)
    _assert_footers_at_spaces(tables, result.out, width)


def test_shortening_is_stated(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """flops alexnet needs 93 columns; at 80 its counts are shortened, and it says so."""
    monkeypatch.setenv("COLUMNS", "80")
    out = cli("flops", "alexnet").out
    assert "101.6 M" in out and "101,616,768" not in out.split("Most arithmetic")[0]  # conv1 MACs
    assert SHORTENED.format(width=80) in out and "--format json" in out


def test_fit_summary_lines_fit(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = cli(*COMMANDS["fit"]).out
    assert max(map(cell_len, out.splitlines())) <= 80


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - MEASURED - {"flops-verify"}))
def test_piped_output_is_the_natural_rendering(cli, monkeypatch: pytest.MonkeyPatch,
                                               name: str) -> None:
    """COLUMNS unset and stdout not a terminal: each table at its natural width, exactly
    what fitting to a width wider than everything prints."""
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = cli(*COMMANDS[name]).out
    monkeypatch.setenv("COLUMNS", "2000")
    assert piped == cli(*COMMANDS[name]).out


def test_piped_table_golden(cli, monkeypatch: pytest.MonkeyPatch, update_goldens: bool) -> None:
    """tests/golden/alexnet_flops_table.txt was printed by the renderer before tables were
    fitted: piped bytes are unchanged."""
    monkeypatch.delenv("COLUMNS", raising=False)
    out = cli("flops", "alexnet").out
    path = GOLDEN / "alexnet_flops_table.txt"
    if update_goldens:
        path.write_text(out, encoding="utf-8")
        pytest.skip("golden rewritten (--update-goldens): nothing compared")
    assert out == path.read_text(encoding="utf-8")
