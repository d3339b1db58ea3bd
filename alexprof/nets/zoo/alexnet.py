"""Named networks, written as descriptors from their published definitions.

Layer names follow the paper-style numbering: conv1..conv5, relu1.., lrn1,
pool1, pool2, pool5, flatten, fc1, relu6, drop6, fc2, relu7, drop7, fc3.
The softmax of the papers is folded into the loss (CrossEntropyLoss applies
log-softmax), so no network ends in a Softmax layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from alexprof.errors import UsageError, choose
from alexprof.layers import (
    AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Layer, Linear, LocalResponseNorm,
    MaxPool2d, Placed, ReLU, Sequential, Shape, fmt_shape, walk,
)


@dataclass(frozen=True)
class Net:
    """A network: descriptors (``body``), or for a user's torch module the leaves
    recorded from one forward pass (``recorded``) and the module's ``factory``."""

    name: str
    description: str
    input_shape: Shape
    body: Sequential
    num_classes: int
    recorded: tuple[Placed, ...] | None = None  # leaves of an extracted torch module
    factory: Callable[[], Any] | None = None  # builds the user's nn.Module (current device)
    batch: int = 1  # the batch size its source uses (memtrace's default)
    stored_batch: int | None = None  # samples x and y hold when the step uses the first `batch` (a view)

    def leaves(self, input_shape: Shape | None = None) -> list[Placed]:
        """Every leaf in execution order with its shapes, for ``input_shape``."""
        shape = self.input_shape if input_shape is None else tuple(input_shape)
        if self.recorded is None:
            return list(walk(self.body, shape))
        if shape != self.input_shape:
            raise UsageError(
                f"model {self.name!r} was recorded with input {fmt_shape(self.input_shape)}, "
                f"not {fmt_shape(shape)}; pass --input {','.join(map(str, shape))} when loading it"
            )
        return list(self.recorded)


_NETS: dict[str, Callable[[], Net]] = {}


def register(fn: Callable[[], Net]) -> Callable[[], Net]:
    net = fn()
    if net.name in _NETS:
        raise RuntimeError(f"network {net.name!r} registered twice")
    _NETS[net.name] = fn
    return fn


def names() -> list[str]:
    return list(_NETS)


def get(name: str) -> Net:
    return choose(_NETS, name, "model")()


def _alexnet_features(
    c_in: int, widths: tuple[int, ...], conv1_padding: int, groups: tuple[int, ...] = (1,) * 5,
    lrn: bool = False,
) -> list[Layer]:
    """conv1..conv5 with ReLUs, optional LRN after relu1/relu2, 3x3/2 max-pools."""
    kernels = (11, 5, 3, 3, 3)
    pads = (conv1_padding, 2, 1, 1, 1)
    layers: list[Layer] = []
    c = c_in
    for i, (width, k, p, g) in enumerate(zip(widths, kernels, pads, groups), start=1):
        layers.append(Conv2d(f"conv{i}", c, width, k, stride=4 if i == 1 else 1, padding=p,
                             groups=g))
        layers.append(ReLU(f"relu{i}", inplace=True))
        if lrn and i in (1, 2):
            layers.append(LocalResponseNorm(f"lrn{i}", size=5, alpha=1e-4, beta=0.75, k=2.0))
        if i in (1, 2, 5):
            layers.append(MaxPool2d(f"pool{i}", 3, stride=2))
        c = width
    return layers


def _classifier(features: int, classes: int, dropout_first: bool = False) -> list[Layer]:
    """fc1/fc2 (4096, ReLU, dropout) and fc3; torchvision puts dropout before fc1/fc2."""
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(((features, 4096), (4096, 4096)), start=1):
        fc, relu, drop = (Linear(f"fc{i}", n_in, n_out), ReLU(f"relu{i + 5}", inplace=True),
                          Dropout(f"drop{i + 5}", 0.5))
        layers += [drop, fc, relu] if dropout_first else [fc, relu, drop]
    layers.append(Linear("fc3", 4096, classes))
    return layers


@register
def alexnet() -> Net:
    return Net(
        "alexnet",
        "the source material's table: d2l layout, 3x224x224, 6400-wide fc1, 1000 classes",
        (3, 224, 224),
        Sequential("alexnet", (
            *_alexnet_features(3, (96, 256, 384, 384, 256), conv1_padding=1),
            Flatten("flatten"), *_classifier(6400, 1000),
        )),
        1000,
    )


@register
def alexnet_d2l() -> Net:
    return Net(
        "alexnet-d2l",
        "d2l.ai's AlexNet for Fashion-MNIST: 1x224x224, 6400-wide fc1, 10 classes",
        (1, 224, 224),
        Sequential("alexnet-d2l", (
            *_alexnet_features(1, (96, 256, 384, 384, 256), conv1_padding=1),
            Flatten("flatten"), *_classifier(6400, 10),
        )),
        10,
    )


@register
def alexnet_2012() -> Net:
    return Net(
        "alexnet-2012",
        "Krizhevsky et al. 2012: 3x227x227, LRN, groups=2 on conv2/4/5 (two GPUs), 9216-wide fc1",
        (3, 227, 227),
        Sequential("alexnet-2012", (
            *_alexnet_features(3, (96, 256, 384, 384, 256), conv1_padding=0,
                               groups=(1, 2, 1, 2, 2), lrn=True),
            Flatten("flatten"), *_classifier(9216, 1000),
        )),
        1000,
    )


@register
def alexnet_torchvision() -> Net:
    features = _alexnet_features(3, (64, 192, 384, 256, 256), conv1_padding=2)
    return Net(
        "alexnet-torchvision",
        "torchvision's layout: 64/192/384/256/256 channels, adaptive 6x6 average pool",
        (3, 224, 224),
        Sequential("alexnet-torchvision", (
            *features, AdaptiveAvgPool2d("avgpool", (6, 6)), Flatten("flatten"),
            *_classifier(9216, 1000, dropout_first=True),
        )),
        1000,
    )


@register
def linear_demo() -> Net:
    return Net(
        "linear-demo",
        "the source's memory demonstration: two Linear(1024, 1024, bias=False); X is 1024x1024, "
        "the step uses X[:256]",
        (1024,),
        Sequential("linear-demo", (Linear("fc1", 1024, 1024, bias=False),
                                   Linear("fc2", 1024, 1024, bias=False))),
        1024, batch=256, stored_batch=1024,
    )


# the other families register themselves on import (kept in their own modules)
from alexprof import zoo_classic, zoo_inception  # noqa: E402,F401
