"""alexprof.cli.coerce converts exactly as typer does, without importing pydantic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.core import TyperCommand
from typer.main import get_command

from alexprof.cli import app as root_app
from alexprof.cli.coerce import Command, PlainArgument, PlainOption

HERE = Path(__file__).parent
CASES = [
    ["params"], ["params", "vgg16", "-i", "3,32,32", "-b", "7", "-f", "json", "--verify"],
    ["params", "-o", str(HERE), "--plot", str(HERE / "missing.png"), "--spec", __file__],
    ["flops", "-m", "pkg.mod:f", "-c", "aten", "--output", ""],
    ["compare"], ["compare", "a", "b", "-m", "x:y", "-m", "z:w", "--spec", __file__, "--spec", "nope"],
    ["check", __file__, "--update"], ["check", "does-not-exist.json"],
    ["memtrace", "--batch", "1,2", "--predict-only", "--log"], ["fit", "-m", "16GB", "--reserve", "1"],
    ["roofline", "-H", "v100", "--threads", "3", "--list-hardware"], ["models", "-f", "csv"],
]


def parsed(cls: type, args: list[str]) -> dict[str, Any]:
    """The values a command receives for ``args``, its parameters of class ``cls``."""
    name = args[0]
    app = root_app.build((name,))
    for info in app.registered_commands:
        info.cls = cls
    command = get_command(app).commands[name]
    return dict(command.make_context(name, args[1:]).params)


@pytest.mark.parametrize("args", CASES, ids=" ".join)
def test_same_values_as_typers_own_conversion(args: list[str]) -> None:
    ours = parsed(Command, args)
    assert ours == parsed(TyperCommand, args)
    assert {type(v) for v in ours.values()} <= {str, bool, list, tuple, type(None), type(HERE)}


def test_plain_parameters_are_typers_with_one_method_overridden() -> None:
    command = get_command(root_app.build(("compare",))).commands["compare"]
    assert {type(p) for p in command.params} == {PlainOption, PlainArgument}
    assert {name for name in vars(PlainOption) if not name.startswith("_")} == {"process_value"}


def test_a_missing_argument_is_still_typers_error(cli) -> None:
    r = cli("check")
    assert (r.code, r.err) == (2, "alexprof: error: Missing argument 'golden'.\n")


def test_typers_conversion_is_what_imports_pydantic() -> None:
    """The probe can fail: the stock command class does import pydantic for the same run."""
    code = ("import sys; from typer.core import TyperCommand; from typer.main import get_command;"
            "from alexprof.cli import app; a = app.build(('flops',));"
            "[setattr(i, 'cls', {cls}) for i in a.registered_commands];"
            "get_command(a).commands['flops'].make_context('flops', ['-f', 'json']);"
            "print('pydantic' in sys.modules)")
    for cls, imported in (("TyperCommand", "True"), ("app.Command", "False")):
        out = subprocess.run([sys.executable, "-c", code.format(cls=cls)], capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == imported, cls
