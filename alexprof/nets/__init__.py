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
from alexprof.nets.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from alexprof.nets.shapes import ROOT, Pair, Shape, conv_out, fmt_shape, pair, window_out
from alexprof.nets.walk import Enter, Event, Exit, Form, Placed, row_name, traverse, walk

__all__ = [
    "ROOT",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BatchNorm2d",
    "Composite",
    "Conv2d",
    "Dropout",
    "Enter",
    "Event",
    "Exit",
    "Flatten",
    "Form",
    "Layer",
    "Linear",
    "LocalResponseNorm",
    "MaxPool2d",
    "Pair",
    "Parallel",
    "Placed",
    "ReLU",
    "Sequential",
    "Shape",
    "Side",
    "Softmax",
    "Tanh",
    "Unsupported",
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
