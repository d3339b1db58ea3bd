"""Keep pydantic out of a command's start-up: plain values are converted here, not by typer.

Why: typer 0.29 converts every parameter value through a pydantic ``TypeAdapter`` built on
first use (``typer.core._TyperParameter.process_value`` -> ``get_runtime_param`` ->
``typer._coercion.build_runtime_param`` -> ``typer._adapters``, a module that imports
pydantic); only a bool flag whose value is already a bool skips it.  ``--help`` is such a
flag, but when it is absent its value is None, so every run imported pydantic (about 90 ms,
a third of ``alexprof flops``) while parsing its first option, although typer's conversion
of the kinds alexprof declares is the identity (``str``, ``bool``), ``Path(text)`` (for a
``Path`` whose flags are typer's defaults) and lists of those.

How: the root is a :class:`Group` and every command a :class:`Command` (typer's ``cls=``
hook).  Their parameters, --help included, convert those plain kinds as typer does and
hand everything else (another type, a bytes value, a parser, an unreadable existing path,
a missing required value) to typer's own ``process_value``, so results and messages stay
typer's (tests/cli/test_coerce.py compares both on every command).  The parameters stay
typer's objects for parsing and help; only the conversion step is overridden.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

_DEFER = object()  # a value this module leaves to typer
# a Path parameter with these settings is only Path(text), plus a readability check
_PLAIN_PATH = {
    "exists": False,
    "file_okay": True,
    "dir_okay": True,
    "writable": False,
    "readable": True,
    "resolve_path": False,
    "allow_dash": False,
    "path_type": None,
}


def _flag(value: Any) -> Any:
    return value if isinstance(value, bool) else _DEFER


def _text(value: Any) -> Any:
    return value if isinstance(value, str) else _DEFER


def _path(value: Any) -> Any:
    if not isinstance(value, str):
        return _DEFER
    path = Path(value)
    try:
        os.stat(path)
    except OSError:
        return path  # typer: a path that does not exist is fine unless exists=True
    return path if os.access(path, os.R_OK) else _DEFER  # typer words the error


def converter(param: Any) -> Callable[[Any], Any] | None:
    """How ``param``'s single values are converted here, or None to leave it all to typer
    (always, for a typer without ``type_descriptor``: those convert with click's types)."""
    descriptor: Any = getattr(param, "type_descriptor", None)
    info = getattr(descriptor, "parameter_info", None)
    if descriptor is None or info is None or info.parser is not None:
        return None
    kind = descriptor.annotation
    if getattr(kind, "__origin__", None) is list and len(kind.__args__) == 1:
        kind = kind.__args__[0]
    if kind is bool:
        return _flag
    if kind is str:
        return _text
    if kind is Path and all(getattr(info, k) == v for k, v in _PLAIN_PATH.items()):
        return _path
    return None


def _convert(param: Any, value: Any) -> Any:
    """typer's result for ``value``, or _DEFER where typer must decide (or word the error)."""
    convert = converter(param)
    many = param.multiple or param.nargs == -1
    if convert is None or (param.required and (value is None or (many and not value))):
        return _DEFER  # typer reports a missing value
    if value is None:
        return () if many else None
    if not many:
        return convert(value)
    if isinstance(value, str):  # typer: "Value must be an iterable."
        return _DEFER
    items = [convert(item) for item in value]
    return _DEFER if any(i is _DEFER for i in items) else items


def process(param: Any, ctx: Any, value: Any, typer_process: Callable[[Any, Any], Any]) -> Any:
    """What typer's ``process_value`` does (convert, then the parameter's callback), with
    the plain kinds converted here and everything else by ``typer_process``."""
    converted = _convert(param, value)
    if converted is _DEFER:
        return typer_process(ctx, value)
    if param.callback is not None:
        return param.callback(ctx, param, converted)
    return converted


class PlainOption(TyperOption):
    def process_value(self, ctx: Any, value: Any) -> Any:
        return process(self, ctx, value, super().process_value)


class PlainArgument(TyperArgument):
    def process_value(self, ctx: Any, value: Any) -> Any:
        return process(self, ctx, value, super().process_value)


_PLAIN: dict[type, type] = {TyperOption: PlainOption, TyperArgument: PlainArgument}


def plain(params: list[Any]) -> list[Any]:
    """The same parameter objects, now converting their plain values here."""
    for param in params:
        cls = _PLAIN.get(type(param))
        if cls is not None:
            param.__class__ = cls  # a subclass adding no state: only process_value differs
    return params


class Command(TyperCommand):
    """A typer command whose parameters (and --help) convert plain values without pydantic."""

    def __init__(self, *args: Any, params: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, params=plain(params or []), **kwargs)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # built on first use; its value is None when absent
        return None if option is None else plain([option])[0]


class Group(TyperGroup):
    """The root group, likewise (its --debug, --version and --help)."""

    def __init__(self, *args: Any, params: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, params=plain(params or []), **kwargs)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        return None if option is None else plain([option])[0]
