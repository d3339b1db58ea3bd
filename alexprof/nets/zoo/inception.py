"""GoogLeNet (Inception v1, Szegedy et al. 2014) in torchvision's layout.

Every convolution is a *basic conv*: Conv2d without bias, BatchNorm2d (eps
0.001), ReLU.  An Inception block runs four branches on the same input and
concatenates their channels: 1x1; 1x1 -> 3x3; 1x1 -> 3x3 (the paper's 5x5,
which torchvision implements as 3x3); 3x3/1 max-pool -> 1x1.  Max-pools use
``ceil_mode=True``.  ``googlenet-aux`` adds the paper's two auxiliary
classifiers after inception4a and inception4d: side branches that run in
training only and add 0.3 x their loss (torchvision's training recipe).
"""

from __future__ import annotations

from alexprof.nets.composites import Parallel, Sequential, Side
from alexprof.nets.layers import BatchNorm2d, Conv2d, Dropout, Flatten, Layer, Linear, ReLU
from alexprof.nets.net import Net
from alexprof.nets.pooling import AdaptiveAvgPool2d, MaxPool2d


def basic_conv(
    name: str, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0
) -> Sequential:
    """conv (no bias) -> BatchNorm2d(eps=0.001) -> ReLU, named name.conv/.bn/.relu."""
    return Sequential(
        name,
        (
            Conv2d(
                "conv",
                c_in,
                c_out,
                (kernel, kernel),
                stride=(stride, stride),
                padding=(padding, padding),
                bias=False,
            ),
            BatchNorm2d("bn", c_out, eps=0.001),
            ReLU("relu", inplace=True),
        ),
    )


# in, 1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool projection (paper's table 1)
_BLOCKS = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


def inception(name: str) -> Parallel:
    c, n1, r3, n3, r5, n5, proj = _BLOCKS[name]
    return Parallel(
        name,
        (
            basic_conv("branch1", c, n1, 1),
            Sequential(
                "branch2",
                (basic_conv("reduce", c, r3, 1), basic_conv("conv", r3, n3, 3, padding=1)),
            ),
            Sequential(
                "branch3",
                (basic_conv("reduce", c, r5, 1), basic_conv("conv", r5, n5, 3, padding=1)),
            ),
            Sequential(
                "branch4",
                (
                    MaxPool2d("pool", (3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True),
                    basic_conv("proj", c, proj, 1),
                ),
            ),
        ),
        merge="concat",
    )


def aux_head(name: str, c_in: int, classes: int) -> Side:
    """Auxiliary classifier: 4x4 average pool, 1x1 conv 128, FC 1024, dropout 0.7, FC."""
    return Side(
        name,
        (
            AdaptiveAvgPool2d("pool", (4, 4)),
            basic_conv("conv", c_in, 128, 1),
            Flatten("flatten"),
            Linear("fc1", 128 * 4 * 4, 1024),
            ReLU("relu", inplace=True),
            Dropout("drop", 0.7),
            Linear("fc2", 1024, classes),
        ),
        loss_weight=0.3,
    )


def _googlenet(name: str, description: str, aux: bool) -> Net:
    def pool(tag: str, k: int = 3) -> MaxPool2d:
        return MaxPool2d(tag, (k, k), stride=(2, 2), ceil_mode=True)

    layers: list[Layer] = [
        basic_conv("conv1", 3, 64, 7, stride=2, padding=3),
        pool("maxpool1"),
        basic_conv("conv2", 64, 64, 1),
        basic_conv("conv3", 64, 192, 3, padding=1),
        pool("maxpool2"),
        inception("inception3a"),
        inception("inception3b"),
        pool("maxpool3"),
        inception("inception4a"),
    ]
    layers += [aux_head("aux1", 512, 1000)] if aux else []
    layers += [inception("inception4b"), inception("inception4c"), inception("inception4d")]
    layers += [aux_head("aux2", 528, 1000)] if aux else []
    layers += [
        inception("inception4e"),
        pool("maxpool4", 2),
        inception("inception5a"),
        inception("inception5b"),
        AdaptiveAvgPool2d("avgpool", (1, 1)),
        Flatten("flatten"),
        Dropout("dropout", 0.2),
        Linear("fc", 1024, 1000),
    ]
    return Net(name, description, (3, 224, 224), Sequential(name, tuple(layers)), 1000)


def googlenet() -> Net:
    return _googlenet(
        "googlenet",
        "Inception v1 (Szegedy et al. 2014), torchvision layout, no auxiliary classifiers",
        aux=False,
    )


def googlenet_aux() -> Net:
    return _googlenet(
        "googlenet-aux",
        "Inception v1 with its two auxiliary classifiers "
        "(training-only side branches, loss weight 0.3)",
        aux=True,
    )


NETS = (googlenet, googlenet_aux)
