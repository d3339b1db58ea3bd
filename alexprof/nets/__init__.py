"""Networks as immutable descriptors: leaf layers, composites, the one traversal.

This package's ``__init__`` re-exports the descriptor vocabulary (``from alexprof.nets
import Conv2d, Sequential, walk``).  Beside it: ``params`` (the tensors each kind
registers), ``kinds`` (every kind, once), ``net`` (a named network), ``zoo`` (the
named networks, an explicit index), ``spec`` (spec files) and ``resolve`` (what a user
typed -> a Net).  Imports only :mod:`alexprof.errors` and :mod:`alexprof.registry`;
never torch (a user's module is loaded by :mod:`alexprof.torchside`, lazily).
"""

from __future__ import annotations

from alexprof.nets.composites import Composite, Parallel, Sequential, Side
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
    Unsupported,
)
from alexprof.nets.params import has_params, parameter_shapes, split_weights_bias
from alexprof.nets.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
    Upsample,
)
from alexprof.nets.shapes import ROOT, Pair, Shape, conv_out, fmt_shape, pair, window_out
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
from alexprof.nets.walk import Enter, Event, Exit, Form, Placed, row_name, traverse, walk

__all__ = [
    "ELU",
    "GELU",
    "ROOT",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "Add",
    "AvgPool2d",
    "BatchNorm2d",
    "Cat",
    "ChannelShuffle",
    "Composite",
    "Contiguous",
    "Conv2d",
    "Dropout",
    "Enter",
    "Event",
    "Exit",
    "Flatten",
    "Form",
    "GroupNorm",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "Identity",
    "Layer",
    "LayerNorm",
    "LayerScale",
    "LeakyReLU",
    "Linear",
    "LocalResponseNorm",
    "MatMul",
    "MaxPool2d",
    "Mean",
    "Mul",
    "Pair",
    "Parallel",
    "Permute",
    "Placed",
    "ReLU",
    "ReLU6",
    "Reshape",
    "ScaledDotProductAttention",
    "Sequential",
    "Shape",
    "SiLU",
    "Side",
    "Sigmoid",
    "Softmax",
    "StochasticDepth",
    "Tanh",
    "Unsupported",
    "Upsample",
    "View",
    "conv_out",
    "fmt_shape",
    "has_params",
    "pair",
    "parameter_shapes",
    "row_name",
    "split_weights_bias",
    "traverse",
    "walk",
    "window_out",
]
