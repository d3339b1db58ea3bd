"""One resolver for every way of naming a network, and the loader of user modules.

:func:`resolve` takes what the user typed and returns a :class:`~alexprof.nets.zoo.index.Net`:

* ``alexnet``: a network known by name (:mod:`alexprof.nets.zoo.index`);
* ``net.toml`` / ``net.json``: a spec file (:mod:`alexprof.nets.spec`);
* ``path/to/file.py:factory`` or ``package.module:factory``: a callable that
  returns a ``torch.nn.Module``.  The module is built on the meta device (no
  parameter memory, no data) and run once on a batch of the given ``--input``
  shape; its leaves become descriptors where alexprof models them and
  "unsupported" rows with torch's own numbers otherwise (:mod:`alexprof.torchside.record`).

Nothing here imports torch until a user module is loaded.  Every failure in the
user's code (import, factory, return type, forward) is one :class:`UsageError`
line naming the cause.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alexprof.errors import UsageError, one_line
from alexprof.nets.net import Net
from alexprof.nets.shapes import Shape

SPEC_SUFFIXES = (".toml", ".json")


def kind_of(ref: str) -> str:
    """'spec', 'module' or 'name' for what the user typed."""
    if ref.lower().endswith(SPEC_SUFFIXES):
        return "spec"
    if ":" in ref:
        return "module"
    return "name"


def resolve(ref: str, input_shape: Shape | None = None) -> Net:
    """The network ``ref`` names; ``input_shape`` (per sample) is required for a user module."""
    kind = kind_of(ref)
    if kind == "spec":
        from alexprof.nets.spec import load_spec

        return load_spec(Path(ref), ref)
    if kind == "module":
        if input_shape is None:
            raise UsageError(
                f"--input C,H,W is required with a user model ({ref!r}): alexprof "
                "runs it once on that shape to find its layers"
            )
        from alexprof.torchside.usermodule import load_module

        return load_module(ref, load_factory(ref), tuple(input_shape))
    from alexprof.nets.zoo import index

    return index.get(ref)


def load_factory(ref: str) -> Callable[[], Any]:
    """Import the module part of ``ref`` and return its callable."""
    target, _, attr = ref.rpartition(":")
    if not target or not attr.isidentifier():
        raise UsageError(
            f"--model {ref!r}: expected path/to/file.py:factory or package.module:factory"
        )
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _import_file(ref, Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except Exception as e:  # the user's code: any failure is theirs, reported in one line
            raise UsageError(f"--model {ref!r}: importing {target} failed: {one_line(e)}") from e
    factory = getattr(module, attr, None)
    if not callable(factory):
        found = sorted(
            n
            for n, v in vars(module).items()
            if callable(v)
            and not n.startswith("_")
            and getattr(v, "__module__", None) == module.__name__
        )
        raise UsageError(
            f"--model {ref!r}: {target} has no callable {attr!r}; "
            f"callables defined there: {', '.join(found) or 'none'}"
        )
    return factory


def _import_file(ref: str, path: Path) -> Any:
    if not path.is_file():
        raise UsageError(f"--model {ref!r}: file {path} does not exist")
    name = f"alexprof_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"--model {ref!r}: {path} cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so the file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise UsageError(f"--model {ref!r}: importing {path} failed: {one_line(e)}") from e
    return module
