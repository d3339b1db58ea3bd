"""What a command's MODEL, --model, --spec and --input name together: one network, one shape."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from alexprof.errors import UsageError
from alexprof.parse import Shape
from alexprof.parse import shape as parse_shape

if TYPE_CHECKING:
    from alexprof.nets.net import Net


@dataclass(frozen=True)
class Loaded:
    net: Net
    given: Shape | None  # --input as typed, None when the network's own applies

    @property
    def shape(self) -> Shape:
        """The input per sample the command analyses."""
        return self.given or self.net.input_shape


def reference(model: str, user_model: str | None = None, spec: Path | None = None) -> str:
    """MODEL, unless --model or --spec (at most one of them) replaces it."""
    if user_model is not None and spec is not None:
        raise UsageError("give --model or --spec, not both")
    if user_model is not None:
        if ":" not in user_model:
            raise UsageError(
                f"--model {user_model!r}: expected path/to/file.py:factory or "
                "package.module:factory"
            )
        return user_model
    return str(spec) if spec is not None else model


def load(model: str, input: str | None) -> Loaded:
    """The network ``model`` names (a zoo name, a spec file or a user module: see
    :func:`alexprof.nets.resolve.resolve` and :func:`reference`), with --input parsed once,
    before the network is looked up, so a bad shape is the error named first."""
    given = None if input is None else parse_shape(input)
    from alexprof.nets.resolve import resolve

    return Loaded(resolve(model, given), given)
