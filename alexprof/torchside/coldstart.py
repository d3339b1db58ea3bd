"""Running torch's Python meta kernels without importing its compiler.  Imports torch."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FunctionType
from typing import Any


@contextmanager
def compiler_left_cold() -> Iterator[None]:
    """Run torch's Python meta kernels without importing its compiler.

    Many meta kernels (``torch._refs``) are wrapped in ``torch._disable_dynamo``, which
    imports ``torch._dynamo`` (about a second) on a kernel's first call, only to wrap it
    in "do not compile this": a no-op while nothing is being compiled, as here.  Each
    wrapper looks for a cached ``__dynamo_disable`` on its function first; for the
    duration of the recording that cache is the function itself, and it is removed
    afterwards, so a later ``torch.compile`` in the same process is unaffected.  When the
    compiler is already imported there is nothing to save and nothing is touched."""
    if "torch._dynamo" in sys.modules:
        yield
        return
    import gc

    import torch._compile

    consts = torch._compile._disable_dynamo.__code__.co_consts
    inner = next(c for c in consts if getattr(c, "co_name", "") == "inner")
    slot = inner.co_freevars.index("fn")
    cached: list[Any] = []
    for obj in gc.get_objects():
        if type(obj) is FunctionType and obj.__code__ is inner and obj.__closure__:
            fn = obj.__closure__[slot].cell_contents
            if getattr(fn, "__dynamo_disable", None) is None:
                setattr(fn, "__dynamo_disable", fn)
                cached.append(fn)
    try:
        yield
    finally:
        for fn in cached:
            if getattr(fn, "__dynamo_disable", None) is fn:
                delattr(fn, "__dynamo_disable")
