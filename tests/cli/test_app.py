"""The root: the context object, --debug, --version, how commands are attached."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from alexprof import __version__
from alexprof.cli import app as root_app
from alexprof.cli.state import State

CLI = Path(root_app.__file__).parent


def probe_app() -> tuple[typer.Typer, list[object]]:
    """The real app plus one command that records the ``ctx.obj`` it receives."""
    seen: list[object] = []
    app = root_app.build(("params",))

    @app.command()
    def probe(ctx: typer.Context) -> None:
        seen.append(ctx.obj)

    return app, seen


@pytest.mark.parametrize("args, env, debug", [
    (["probe"], {}, False),
    (["--debug", "probe"], {}, True),
    (["probe"], {"ALEXPROF_DEBUG": "1"}, True),
    (["probe"], {"ALEXPROF_DEBUG": "0"}, False),
])
def test_root_callback_builds_one_state(args: list[str], env: dict[str, str], debug: bool,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALEXPROF_DEBUG", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app, seen = probe_app()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert seen == [State(debug=debug, terminal_color=False)]  # the runner's stdout is no tty


class Tty:
    def isatty(self) -> bool:
        return True


def test_color_only_on_a_terminal_without_no_color() -> None:
    state = State.build(False, Tty(), environ={})
    assert state.color(None) and not state.color(Path("out.txt"))
    assert not State.build(False, Tty(), environ={"NO_COLOR": ""}).color(None)


def test_debug_on_the_command_line_shows_the_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ALEXPROF_DEBUG"}
    cmd = [sys.executable, "-m", "alexprof"]
    quiet = subprocess.run([*cmd, "params", "nope"], capture_output=True, text=True, env=env)
    loud = subprocess.run([*cmd, "--debug", "params", "nope"], capture_output=True, text=True, env=env)
    assert quiet.returncode == 2 and quiet.stderr.count("\n") == 1 and "Traceback" not in quiet.stderr
    assert loud.returncode == 1 and "Traceback" in loud.stderr
    assert loud.stderr.rstrip().endswith("UsageError: " + quiet.stderr.split("error: ", 1)[1].rstrip())


def test_internal_errors_are_one_line_unless_debug(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    # modules that bind ``count`` by name at import must be imported before the patch, or
    # they would keep the broken function after it is undone
    importlib.import_module("alexprof.report.views")
    monkeypatch.setattr("alexprof.counting.analysis.count", broken)
    monkeypatch.delenv("ALEXPROF_DEBUG", raising=False)
    r = cli("params")
    assert (r.code, r.err) == (3, "alexprof: error: internal error: RuntimeError: boom "
                                  "(ALEXPROF_DEBUG=1 for the traceback)\n")
    with pytest.raises(RuntimeError, match="boom"):
        cli("--debug", "params")


def test_version_names_alexprof_torch_ptflops_python(cli) -> None:
    r = cli("--version")
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines == [
        f"alexprof {__version__}",
        f"torch {importlib.metadata.version('torch')}",
        f"ptflops {importlib.metadata.version('ptflops')}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
    ]
    assert __version__ == importlib.metadata.version("alexprof")  # the code and the metadata agree


def test_no_arguments_print_the_help_once(cli) -> None:
    r = cli()
    assert r.code == 0 and r.out == cli("--help").out and r.out.count("Usage: alexprof") == 1


def test_a_one_command_build_helps_as_the_full_one() -> None:
    """main() builds only the command it runs; the help must not notice."""
    runner = CliRunner()
    full = root_app.build()
    for name in root_app.COMMANDS:
        alone = root_app.build((name,))
        assert runner.invoke(alone, [name, "--help"]).output == \
            runner.invoke(full, [name, "--help"]).output, name


def test_commands_attached_in_help_order_and_root_takes_flags_only() -> None:
    group = get_command(root_app.build())
    assert list(group.commands) == list(root_app.COMMANDS)
    assert all(p.is_flag for p in group.params)  # command_named() skips every '-' word
    assert root_app.command_named(["--debug", "flops", "alexnet"]) == "flops"
    assert root_app.command_named(["--debug", "flop"]) is None  # a typo: the full app answers
    assert root_app.command_named(["--help", "flops"]) is None  # the root's help: every command


def test_root_help_before_a_command_still_lists_every_command(cli) -> None:
    assert cli("--help", "flops").out == cli("--help").out


def test_command_modules_never_import_the_app() -> None:
    for path in sorted((CLI / "commands").glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not imported & {"alexprof.cli.app", "alexprof.cli"}, path.name


def test_no_private_typer_or_click_module_is_imported() -> None:
    for path in sorted(CLI.rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in names if m.startswith(("typer._", "click"))}, path.name


def test_ctrl_c_is_one_line_and_exit_130(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    importlib.import_module("alexprof.report.views")  # binds count before the patch (above)
    monkeypatch.setattr("alexprof.counting.analysis.count", interrupted)
    r = cli("params")
    assert (r.code, r.out, r.err) == (130, "", "alexprof: error: interrupted\n")
