"""Every example the docs show is run, and its output must equal the text printed there.

What is checked, in README.md and docs/*.md:

* a fenced block whose first line is ``$ alexprof ARGS``: the command runs in-process
  (``alexprof.cli.main``) from the repository root, with stdout not a terminal, as in a
  pipe; the block's other lines must equal stdout followed by stderr, byte for byte
  (rich pads table lines with spaces: they are part of the output), and the exit status
  must be 0, or N where ``<!-- docs-test: exit N -->`` stands on the line before the fence;
* ``<!-- docs-test: output of $ alexprof ARGS -->`` ... ``<!-- docs-test: end -->``:
  the markdown between the two comments (a ``--format markdown`` table, rendered on the
  page) must equal what the command prints;
* ``<!-- docs-test: file PATH -->`` before a fence: the block must equal that committed file;
* relative links: each target file exists, and each ``#anchor`` names a heading there.

``<!-- docs-test: skip (CATEGORY: REASON) -->`` before a fence or an ``output of`` comment
marks an example whose output cannot be compared across machines (CATEGORY: timing,
machine or writes files). Skips are counted, and listed with their reasons by
``pytest tests/test_docs.py -rs``. An unmarked example, a block holding a second
``$ alexprof`` line, a command that writes files without a skip mark, or a ``docs-test``
comment attached to nothing is an error, never a silent pass.

``ALEXPROF_UPDATE_DOCS=1 python -m pytest tests/test_docs.py`` rewrites stale outputs from
the commands themselves (never edit an output by hand), then read the diff.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from alexprof.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
UPDATE = os.environ.get("ALEXPROF_UPDATE_DOCS") not in (None, "", "0")

MARK = re.compile(r"^<!-- docs-test: (.*) -->$")
SKIP = re.compile(r"^skip \(((timing|machine|writes files): .+)\)$")
EXIT = re.compile(r"^exit (\d+)$")
FILE = re.compile(r"^file (\S+)$")
OUTPUT_OF = re.compile(r"^output of \$ alexprof (.+)$")
PROMPT = "$ alexprof "
WRITES = ("--output", "-o", "--plot", "--update")


class DocError(Exception):
    """The markdown does not follow the docs-test rules (a test fails on it)."""


@dataclass(frozen=True)
class Example:
    page: Path
    line: int  # 1-based line of the command (the fence's first line, or the region's comment)
    args: tuple[str, ...]
    expected: str
    body: tuple[int, int]  # 0-based line range [start, end) of the expected text
    exit_code: int = 0
    skip: str | None = None

    @property
    def id(self) -> str:
        return f"{_rel(self.page)}:{self.line}"


@dataclass(frozen=True)
class FileBlock:
    page: Path
    line: int
    path: str
    text: str


def _rel(page: Path) -> str:
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else page.name


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def parse(page: Path, text: str | None = None) -> tuple[list[Example], list[FileBlock]]:
    """The examples and file blocks of one page (or of ``text``); DocError on a rule broken."""
    lines = (page.read_text(encoding="utf-8") if text is None else text).split("\n")
    examples: list[Example] = []
    files: list[FileBlock] = []
    pending: list[tuple[int, str]] = []  # (line, directive) waiting for their fence or region

    def where(i: int) -> str:
        return f"{_rel(page)}:{i + 1}"

    def take(what: str) -> tuple[str | None, int, str | None]:
        skip, code, path = None, 0, None
        for j, d in pending:
            if m := SKIP.match(d):
                skip = m.group(1)
            elif m := EXIT.match(d):
                code = int(m.group(1))
            elif (m := FILE.match(d)) and what == "a fence":
                path = m.group(1)
            else:
                raise DocError(f"{where(j)}: 'docs-test: {d}' does not apply to {what}")
        pending.clear()
        return skip, code, path

    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARK.match(line.strip())
        if m:
            directive = m.group(1).strip()
            if directive == "end":
                raise DocError(f"{where(i)}: 'docs-test: end' without 'docs-test: output of'")
            if om := OUTPUT_OF.match(directive):
                skip, code, _ = take("an 'output of' region")
                end = next((k for k in range(i + 1, len(lines))
                            if lines[k].strip() == "<!-- docs-test: end -->"), None)
                if end is None:
                    raise DocError(f"{where(i)}: 'docs-test: output of' has no 'docs-test: end'")
                examples.append(Example(page, i + 1, tuple(shlex.split(om.group(1))),
                                        _text(lines[i + 1:end]), (i + 1, end), code, skip))
                i = end + 1
                continue
            if not (SKIP.match(directive) or EXIT.match(directive) or FILE.match(directive)):
                raise DocError(f"{where(i)}: unknown directive 'docs-test: {directive}' "
                               "(valid: skip (timing|machine|writes files: REASON), exit N, "
                               "file PATH, output of $ alexprof ARGS, end)")
            pending.append((i, directive))
            i += 1
            continue
        if line.lstrip().startswith("```"):
            close = next((k for k in range(i + 1, len(lines)) if lines[k].strip() == "```"), None)
            if close is None:
                raise DocError(f"{where(i)}: unclosed code fence")
            body = lines[i + 1:close]
            later = [k for k, b in enumerate(body) if k and b.startswith(PROMPT)]
            if later:
                raise DocError(f"{where(i + 1 + later[0])}: one `$ alexprof` command per block "
                               "(its output follows it); write command lists without `$ `")
            if body and body[0].startswith(PROMPT):
                skip, code, _ = take("an example")
                examples.append(Example(page, i + 2, tuple(shlex.split(body[0][len(PROMPT):])),
                                        _text(body[1:]), (i + 2, close), code, skip))
            elif pending:
                skip, code, path = take("a fence")
                if path is None or skip is not None or code:
                    raise DocError(f"{where(i)}: only 'docs-test: file PATH' applies to a block "
                                   "that is not an `$ alexprof` example")
                files.append(FileBlock(page, i + 1, path, _text(body)))
            i = close + 1
            continue
        if pending:
            j = pending[0][0]
            raise DocError(f"{where(j)}: a docs-test comment must stand right before its fence "
                           "or 'output of' comment")
        i += 1
    if pending:
        raise DocError(f"{where(pending[0][0])}: docs-test comment at the end of the page")
    return examples, files


def _collect() -> tuple[list[Example], list[FileBlock], list[str]]:
    examples: list[Example] = []
    files: list[FileBlock] = []
    errors: list[str] = []
    for page in PAGES:
        try:
            e, f = parse(page)
        except DocError as err:
            errors.append(str(err))
            continue
        examples += e
        files += f
    return examples, files, errors


EXAMPLES, FILE_BLOCKS, PARSE_ERRORS = _collect()
CHECKED = [e for e in EXAMPLES if e.skip is None]
SKIPPED = [e for e in EXAMPLES if e.skip is not None]


@pytest.fixture
def run_example(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run one example as a user's shell would in a pipe: stdout not a terminal."""

    def no_terminal(*args: object) -> os.terminal_size:
        raise OSError("not a terminal")  # as in a pipe, whatever pytest's capture mode

    def run(args: tuple[str, ...]) -> tuple[int, str]:
        monkeypatch.chdir(ROOT)
        for var in ("ALEXPROF_DEBUG", "COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setattr(os, "get_terminal_size", no_terminal)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def _update(example: Example, output: str) -> None:
    """Replace the example's expected text by ``output``.  Earlier updates may have moved
    it, so it is found again by its position among the page's examples."""
    ordinal = [e for e in EXAMPLES if e.page == example.page].index(example)
    target = parse(example.page)[0][ordinal]
    assert target.args == example.args, f"{example.id}: the page changed under the update"
    lines = example.page.read_text(encoding="utf-8").split("\n")
    start, end = target.body
    lines[start:end] = output.split("\n")[:-1] if output.endswith("\n") else output.split("\n")
    example.page.write_text("\n".join(lines), encoding="utf-8")


def test_docs_follow_the_rules() -> None:
    assert not PARSE_ERRORS, "\n".join(PARSE_ERRORS)


def test_every_example_is_checked_or_skipped_with_a_reason() -> None:
    # Guards against a parser that finds nothing (and so passes vacuously).
    assert len(CHECKED) >= 8, [e.id for e in CHECKED]
    assert any(e.args == ("params", "alexnet") and e.page.name == "README.md" for e in CHECKED)
    pages = {e.page.name for e in CHECKED}
    assert {"README.md", "counting.md", "networks.md", "memtrace.md", "fit.md",
            "roofline.md"} <= pages, pages
    for e in EXAMPLES:
        writes = [a for a in e.args if a.split("=", 1)[0] in WRITES]
        assert not writes or e.skip, f"{e.id}: `{' '.join(e.args)}` writes files: mark it skip"
    print(f"\ndocs examples: {len(CHECKED)} checked, {len(SKIPPED)} skipped")
    for e in SKIPPED:
        print(f"  skipped {e.id}: alexprof {' '.join(e.args)} -- {e.skip}")


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_output_matches_the_docs(example: Example, run_example) -> None:
    if example.skip is not None:
        pytest.skip(f"{example.id}: {example.skip}")
    code, output = run_example(example.args)
    if UPDATE and output != example.expected and code == example.exit_code:
        _update(example, output)
        return
    assert code == example.exit_code, f"{example.id}: exit {code}, the docs say {example.exit_code}\n{output}"
    assert output == example.expected, (
        f"{example.id}: `alexprof {' '.join(example.args)}` prints something else than the docs "
        "show; rerun with ALEXPROF_UPDATE_DOCS=1 if the change is meant")


@pytest.mark.parametrize("block", FILE_BLOCKS, ids=[f"{_rel(b.page)}:{b.line}" for b in FILE_BLOCKS])
def test_block_equals_committed_file(block: FileBlock) -> None:
    assert block.text == (ROOT / block.path).read_text(encoding="utf-8")


def test_a_changed_number_fails(run_example) -> None:
    # The comparison itself, on the README's first example with one digit changed.
    example = next(e for e in CHECKED if e.args == ("params", "alexnet"))
    code, output = run_example(example.args)
    assert code == 0 and output == example.expected
    assert "50,844,008" in output
    assert output.replace("50,844,008", "50,844,009") != example.expected


def test_the_parser_refuses_broken_pages() -> None:
    def error(text: str) -> str:
        try:
            parse(Path("broken.md"), text)
        except DocError as e:
            return str(e)
        return ""

    assert "one `$ alexprof` command per block" in error("```text\n$ alexprof models\n$ alexprof models\n```\n")
    assert "right before its fence" in error("<!-- docs-test: exit 2 -->\n\ntext\n")
    assert "unknown directive" in error("<!-- docs-test: skip because -->\n```text\n$ alexprof models\n```\n")
    assert "does not apply" in error("<!-- docs-test: file x.txt -->\n```text\n$ alexprof models\n```\n")
    assert "no 'docs-test: end'" in error("<!-- docs-test: output of $ alexprof models -->\n| a |\n")
    assert error("```bash\nalexprof models   # a command list, not a transcript\n```\n") == ""
    examples, _ = parse(Path("ok.md"), "<!-- docs-test: exit 2 -->\n```text\n$ alexprof x --y 'a b'\nout\n```\n")
    assert [(e.args, e.expected, e.exit_code, e.line) for e in examples] == [(("x", "--y", "a b"), "out\n", 2, 3)]


# --- links ------------------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    in_fence = False
    for line in page.read_text(encoding="utf-8").split("\n"):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if in_fence or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def _links(page: Path) -> list[str]:
    text, out, in_fence = page.read_text(encoding="utf-8"), [], False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if not in_fence:
            out += LINK.findall(re.sub(r"`[^`]*`", "", line))
    return out


@pytest.mark.parametrize("page", PAGES, ids=[_rel(p) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for link in _links(page):
        if re.match(r"^[a-z]+:", link):
            continue  # https:, mailto:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
            broken.append(f"{link}: no heading with that anchor")
    assert not broken, broken
