"""One resolver for every way of naming a network, and the loader of user modules.

:func:`resolve` takes what the user typed and returns a :class:`~alexprof.zoo.Net`:

* ``alexnet``: a network known by name (:mod:`alexprof.zoo`);
* ``net.toml`` / ``net.json``: a spec file (:mod:`alexprof.spec`);
* ``path/to/file.py:factory`` or ``package.module:factory``: a callable that
  returns a ``torch.nn.Module``.  The module is built on the meta device (no
  parameter memory, no data) and run once on a batch of the given ``--input``
  shape; its leaves become descriptors where alexprof models them and
  "unsupported" rows with torch's own numbers otherwise (:mod:`alexprof.extract`).

Nothing here imports torch until a user module is loaded.  Every failure in the
user's code (import, factory, return type, forward) is one :class:`UsageError`
line naming the cause.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

from alexprof.errors import UsageError
from alexprof.layers import ROOT, Sequential, Shape, fmt_shape
from alexprof.zoo import Net

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
        from alexprof.spec import load_spec

        return load_spec(Path(ref), ref)
    if kind == "module":
        if input_shape is None:
            raise UsageError(f"--input C,H,W is required with a user model ({ref!r}): alexprof "
                             "runs it once on that shape to find its layers")
        return load_module(ref, tuple(input_shape))
    from alexprof import zoo

    return zoo.get(ref)


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")


def load_factory(ref: str) -> Callable[[], Any]:
    """Import the module part of ``ref`` and return its callable."""
    target, _, attr = ref.rpartition(":")
    if not target or not attr.isidentifier():
        raise UsageError(f"--model {ref!r}: expected path/to/file.py:factory or "
                         "package.module:factory")
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _import_file(ref, Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except Exception as e:  # the user's code: any failure is theirs, reported in one line
            raise UsageError(f"--model {ref!r}: importing {target} failed: {_one_line(e)}") from e
    factory = getattr(module, attr, None)
    if not callable(factory):
        found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        raise UsageError(f"--model {ref!r}: {target} has no callable {attr!r}; "
                         f"callables defined there: {', '.join(found) or 'none'}")
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
        raise UsageError(f"--model {ref!r}: importing {path} failed: {_one_line(e)}") from e
    return module


def meta_factory(ref: str, factory: Callable[[], Any]) -> Callable[[], Any]:
    """A callable that builds the user's module on meta: inside ``torch.device('meta')``
    when the factory allows it, else normally and then moved to meta."""
    import torch

    def checked(module: Any) -> Any:
        if not isinstance(module, torch.nn.Module):
            raise UsageError(f"--model {ref!r}: the factory returned {type(module).__name__}, "
                             "not a torch.nn.Module")
        return module

    try:
        with torch.device("meta"):
            checked(factory())
        return lambda: checked(_call(ref, factory, meta=True))
    except UsageError:
        raise
    except Exception as e:  # e.g. it loads weights: build it for real, and say so
        meta_error = f"{type(e).__name__}: {e}"
    checked(_call(ref, factory, meta=False))  # a failure here is the one error line
    print(f"alexprof: note: --model {ref!r} cannot be built on the meta device ({meta_error}); "
          "built on the CPU instead, weights included", file=sys.stderr)
    return lambda: _call(ref, factory, meta=False).to("meta")


def _call(ref: str, factory: Callable[[], Any], meta: bool) -> Any:
    import torch

    try:
        if meta:
            with torch.device("meta"):
                return factory()
        return factory()
    except Exception as e:
        raise UsageError(f"--model {ref!r}: the factory raised {_one_line(e)}") from e


def load_module(ref: str, input_shape: Shape) -> Net:
    """Load, build on meta, run once and extract the placed leaves of a user module."""
    from alexprof import extract
    from alexprof.replay import replay_counts

    build = meta_factory(ref, load_factory(ref))
    try:
        counts = replay_counts(build(), input_shape, extract.BATCH, own=True)
        own = {("" if k == ROOT else k): v for k, v in counts.items()}
        module = build()
        leaves = extract.placed_leaves(module, input_shape, own)
    except UsageError:
        raise
    except Exception as e:  # the user's forward: any failure is theirs
        raise UsageError(
            f"--model {ref!r}: forward (and backward) on a meta tensor of shape "
            f"{extract.BATCH}x{fmt_shape(input_shape)} failed: {_one_line(e)}") from e
    kind = type(module).__name__
    return Net(ref, f"user module {kind} from {ref}", input_shape, Sequential("user", ()), 0,
               recorded=tuple(leaves), factory=build)
