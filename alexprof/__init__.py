"""alexprof: exact per-layer parameters, FLOPs and training memory of CNNs.

The small public API (none of it imports torch)::

    from alexprof import count, load_model, predict
    from alexprof.memory import fit
    report = count(load_model("alexnet"), batch=32)
    report.totals()["params"]   # 50844008
    predict(load_model("alexnet"), batch=32, device="cuda").peak   # bytes

Names are loaded on first use, so ``import alexprof.cli`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["count", "fit", "load_model", "predict"]
__version__ = "0.1.0"

_LAZY = {
    "count": ("alexprof.counting.analysis", "count"),
    "fit": ("alexprof.memory.fit", "fit"),
    "load_model": ("alexprof.nets.resolve", "resolve"),
    "predict": ("alexprof.memory.predict", "predict"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'alexprof' has no attribute {name!r}") from None
    return getattr(import_module(module), attr)
