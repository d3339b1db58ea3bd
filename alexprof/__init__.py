"""alexprof: exact per-layer parameters, FLOPs and training memory of CNNs.

The small public API (none of it imports torch)::

    from alexprof import count, load_model, predict
    from alexprof.memory import fit
    report = count("alexnet", batch=32)          # or count(model, input_shape=(3, 224, 224))
    report.totals()["params"]   # 50844008       # for any torch.nn.Module ``model``
    predict(load_model("alexnet"), batch=32, device="cuda").peak   # bytes

Names are loaded on first use, so ``import alexprof.cli`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["count", "fit", "load_model", "predict"]
__version__ = "0.1.0"

_LAZY = {
    "count": ("alexprof.api", "count"),
    "fit": ("alexprof.api", "fit"),
    "load_model": ("alexprof.api", "load_model"),
    "predict": ("alexprof.api", "predict"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'alexprof' has no attribute {name!r}") from None
    return getattr(import_module(module), attr)
