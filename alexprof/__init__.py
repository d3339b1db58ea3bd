"""alexprof: exact per-layer parameters, FLOPs and training memory of CNNs.

The small public API (no torch import at this level)::

    from alexprof import count, load_model
    report = count(load_model("alexnet"), batch=32)
    report.totals()["params"]   # 50844008
"""

from __future__ import annotations

from alexprof.analysis import count
from alexprof.fit import fit
from alexprof.memory import predict
from alexprof.usermodel import resolve as load_model

__all__ = ["count", "fit", "load_model", "predict"]
__version__ = "0.1.0"
