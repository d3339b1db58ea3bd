from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from alexprof.cli import main

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="rewrite tests/golden/*.md rendered outputs instead of comparing")


@pytest.fixture(autouse=True)
def _natural_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables are fitted to COLUMNS when it is set; the goldens are natural width (piped)."""
    monkeypatch.delenv("COLUMNS", raising=False)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run `alexprof ARGS...` in-process through the real entry point."""

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))
