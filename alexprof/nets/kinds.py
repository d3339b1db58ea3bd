"""Every descriptor kind alexprof models, listed once.  No torch import.

This is the vocabulary of spec files (``type = "Conv2d"``) and the list that
``tests/test_kinds.py`` checks every registry against: a kind added here needs a
cost formula, a memory rule, a torch builder and extraction, parameter shapes and
ptflops' behaviour (composites and :class:`~alexprof.nets.layers.Unsupported` are
exempt where stated there).
"""

from __future__ import annotations

from alexprof.nets.composites import Parallel, Sequential, Side
from alexprof.nets.layers import (
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Layer,
    Linear,
    LocalResponseNorm,
    ReLU,
    Softmax,
    Tanh,
)
from alexprof.nets.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

LEAVES: tuple[type[Layer], ...] = (
    Conv2d,
    Linear,
    ReLU,
    Tanh,
    MaxPool2d,
    AvgPool2d,
    AdaptiveAvgPool2d,
    LocalResponseNorm,
    Dropout,
    Softmax,
    BatchNorm2d,
    Flatten,
)
COMPOSITES: tuple[type[Layer], ...] = (Sequential, Parallel, Side)
KINDS: dict[str, type[Layer]] = {cls.kind: cls for cls in LEAVES + COMPOSITES}
