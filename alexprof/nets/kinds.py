"""Every descriptor kind alexprof models, listed once.  No torch import.

``LEAVES`` are the vocabulary of spec files (``type = "Conv2d"``): one input, one
output.  ``RECORDED`` take a second tensor (a residual add, a concatenation, a matrix
product, attention); they are read from a user's ``forward`` only (the zoo merges
branches with :class:`~alexprof.nets.composites.Parallel`).  ``tests/test_kinds.py``
checks every registry against these lists: a kind added here needs a cost formula, a
memory rule, a torch builder and extraction, parameter shapes and ptflops' behaviour
(exemptions are stated there).
"""

from __future__ import annotations

from alexprof.nets.composites import Parallel, Sequential, Side
from alexprof.nets.elementwise import (
    ELU,
    GELU,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LayerNorm,
    LayerScale,
    LeakyReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    StochasticDepth,
)
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
from alexprof.nets.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
    Upsample,
)
from alexprof.nets.tensorops import (
    Add,
    Cat,
    ChannelShuffle,
    Contiguous,
    MatMul,
    Mean,
    Mul,
    Permute,
    Reshape,
    ScaledDotProductAttention,
    View,
)

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
    ReLU6,
    Hardtanh,
    Hardswish,
    Hardsigmoid,
    SiLU,
    Sigmoid,
    GELU,
    LeakyReLU,
    ELU,
    Identity,
    StochasticDepth,
    LayerScale,
    LayerNorm,
    GroupNorm,
    AdaptiveMaxPool2d,
    Mean,
    Reshape,
    Permute,
    Contiguous,
    ChannelShuffle,
    Upsample,
)
RECORDED: tuple[type[Layer], ...] = (Add, Mul, Cat, MatMul, ScaledDotProductAttention, View)
COMPOSITES: tuple[type[Layer], ...] = (Sequential, Parallel, Side)
KINDS: dict[str, type[Layer]] = {cls.kind: cls for cls in LEAVES + COMPOSITES}
