"""The one object the root callback builds and every command receives as ``ctx.obj``."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

DEBUG_ENV = "ALEXPROF_DEBUG"  # set to anything but '' or '0' for tracebacks


def debug_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(DEBUG_ENV) not in (None, "", "0")


@dataclass(frozen=True)
class State:
    """What every command shares, decided once per run."""

    debug: bool  # --debug or ALEXPROF_DEBUG: let unexpected errors show their traceback
    terminal_color: bool  # stdout is a terminal and NO_COLOR is unset

    @classmethod
    def build(
        cls, debug: bool, stdout: TextIO | None = None, environ: Mapping[str, str] = os.environ
    ) -> State:
        out = sys.stdout if stdout is None else stdout
        return cls(
            debug=debug or debug_from_env(environ),
            terminal_color=out.isatty() and "NO_COLOR" not in environ,
        )

    def color(self, output: Path | None) -> bool:
        """Colour a table only when it goes to the terminal, not into --output."""
        return self.terminal_color and output is None
