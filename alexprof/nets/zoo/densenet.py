"""DenseNet-121 (Huang et al. 2017, "Densely Connected Convolutional Networks") in
torchvision's layout: DenseNet-BC, growth rate 32, blocks of (6, 12, 24, 16) layers,
bottleneck width 4 x growth, 64 initial features, compression 0.5.

The stem is conv0 7x7/2 (64, no bias), norm0, relu0 and a 3x3/2 max-pool (padding 1).
Each dense layer is ``Parallel(identity, new, merge="concat")``: ``identity`` an empty
``Sequential`` (every feature map so far, handed on) and ``new`` the bottleneck
BN-ReLU-Conv1x1(128)-BN-ReLU-Conv3x3(32), so the output is the input's channels followed
by the 32 new ones, the order of torchvision's ``torch.cat([previous features..., new])``.
A transition halves the channels and the spatial size: BN-ReLU-Conv1x1-AvgPool2d(2, 2).
After the last block: norm5, relu5, an adaptive 1x1 average pool and ``classifier``
(Linear 1024 -> 1000).  Convolutions are bias-free.
"""

from __future__ import annotations

from alexprof.nets.composites import Parallel, Sequential
from alexprof.nets.layers import BatchNorm2d, Conv2d, Flatten, Layer, Linear, ReLU
from alexprof.nets.net import Net
from alexprof.nets.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

GROWTH = 32
BLOCKS = (6, 12, 24, 16)
BN_SIZE = 4
INIT_FEATURES = 64


def dense_layer(name: str, c_in: int, growth: int = GROWTH, bn_size: int = BN_SIZE) -> Parallel:
    width = bn_size * growth
    new = Sequential(
        "new",
        (
            BatchNorm2d("norm1", c_in),
            ReLU("relu1", inplace=True),
            Conv2d("conv1", c_in, width, (1, 1), bias=False),
            BatchNorm2d("norm2", width),
            ReLU("relu2", inplace=True),
            Conv2d("conv2", width, growth, (3, 3), padding=(1, 1), bias=False),
        ),
    )
    return Parallel(name, (Sequential("identity", ()), new), merge="concat")


def transition(name: str, c_in: int, c_out: int) -> Sequential:
    return Sequential(
        name,
        (
            BatchNorm2d("norm", c_in),
            ReLU("relu", inplace=True),
            Conv2d("conv", c_in, c_out, (1, 1), bias=False),
            AvgPool2d("pool", (2, 2), stride=(2, 2)),
        ),
    )


def densenet121() -> Net:
    layers: list[Layer] = [
        Conv2d("conv0", 3, INIT_FEATURES, (7, 7), (2, 2), (3, 3), bias=False),
        BatchNorm2d("norm0", INIT_FEATURES),
        ReLU("relu0", inplace=True),
        MaxPool2d("pool0", (3, 3), stride=(2, 2), padding=(1, 1)),
    ]
    c = INIT_FEATURES
    for b, depth in enumerate(BLOCKS, start=1):
        block = []
        for i in range(1, depth + 1):
            block.append(dense_layer(f"denselayer{i}", c))
            c += GROWTH
        layers.append(Sequential(f"denseblock{b}", tuple(block)))
        if b < len(BLOCKS):
            layers.append(transition(f"transition{b}", c, c // 2))
            c //= 2
    layers += [
        BatchNorm2d("norm5", c),
        ReLU("relu5", inplace=True),
        AdaptiveAvgPool2d("avgpool", (1, 1)),
        Flatten("flatten"),
        Linear("classifier", c, 1000),
    ]
    return Net(
        "densenet121",
        "Huang et al. 2017 DenseNet-121 (BC): growth 32, blocks (6, 12, 24, 16), "
        "torchvision layout",
        (3, 224, 224),
        Sequential("densenet121", tuple(layers)),
        1000,
    )


NETS = (densenet121,)
