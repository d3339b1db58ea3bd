"""MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
Bottlenecks") in torchvision's layout, width multiplier 1.0.

``features.0`` is a 3x3/2 conv-bn-relu6 to 32 channels; then 17 inverted residual blocks
from the paper's table 2 (t expansion, c channels, n repeats, s stride of the first);
then a 1x1 conv-bn-relu6 to 1280, an adaptive 1x1 average pool, dropout 0.2 and a Linear
to 1000 classes.  Every convolution is bias-free and followed by BatchNorm2d.

An inverted residual block is ``conv``: a 1x1 expansion to ``t * c_in`` channels (left
out where t = 1) with ReLU6, a 3x3 depthwise convolution (groups = channels, the block's
stride) with ReLU6, and a linear 1x1 projection with BatchNorm2d and no activation.
Where the stride is 1 and the block keeps its width the block is
``Parallel(conv, identity, merge="add")``, ``identity`` an empty ``Sequential``.

Channel counts are rounded as torchvision's ``_make_divisible`` does (to a multiple of
8, never below 90% of the unrounded width); at width 1.0 that leaves every count as
published.
"""

from __future__ import annotations

from alexprof.nets.composites import Parallel, Sequential
from alexprof.nets.elementwise import ReLU6
from alexprof.nets.layers import BatchNorm2d, Conv2d, Dropout, Flatten, Layer, Linear
from alexprof.nets.net import Net
from alexprof.nets.pooling import AdaptiveAvgPool2d

# the paper's table 2: expansion t, output channels c, repeats n, first stride s
SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (at least ``divisor``),
    bumped up one step where rounding would lose more than 10%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def conv_bn_relu6(
    name: str, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1
) -> Sequential:
    """conv (no bias, 'same' padding) -> BatchNorm2d -> ReLU6, named name.conv/.bn/.relu6."""
    pad = (kernel - 1) // 2
    return Sequential(
        name,
        (
            Conv2d(
                "conv",
                c_in,
                c_out,
                (kernel, kernel),
                (stride, stride),
                (pad, pad),
                groups=groups,
                bias=False,
            ),
            BatchNorm2d("bn", c_out),
            ReLU6("relu6", inplace=True),
        ),
    )


def inverted_residual(name: str, c_in: int, c_out: int, stride: int, expand: int) -> Layer:
    hidden = round(c_in * expand)
    layers: list[Layer] = []
    if expand != 1:
        layers.append(conv_bn_relu6("expand", c_in, hidden, 1))
    layers += [
        conv_bn_relu6("depthwise", hidden, hidden, 3, stride, groups=hidden),
        Conv2d("project", hidden, c_out, (1, 1), bias=False),
        BatchNorm2d("bn", c_out),
    ]
    conv = Sequential("conv", tuple(layers))
    if stride == 1 and c_in == c_out:
        return Parallel(name, (conv, Sequential("identity", ())), merge="add")
    return Sequential(name, (conv,))


def mobilenet_v2() -> Net:
    width = 1.0
    c = make_divisible(32 * width)
    last = make_divisible(1280 * max(1.0, width))
    features: list[Layer] = [conv_bn_relu6("0", 3, c, 3, 2)]
    for t, channels, n, s in SETTING:
        c_out = make_divisible(channels * width)
        for i in range(n):
            features.append(inverted_residual(str(len(features)), c, c_out, s if i == 0 else 1, t))
            c = c_out
    features.append(conv_bn_relu6(str(len(features)), c, last, 1))
    layers: list[Layer] = [
        Sequential("features", tuple(features)),
        AdaptiveAvgPool2d("avgpool", (1, 1)),
        Flatten("flatten"),
        Dropout("dropout", 0.2),
        Linear("classifier", last, 1000),
    ]
    return Net(
        "mobilenet-v2",
        "Sandler et al. 2018 MobileNetV2, width 1.0: inverted residuals, depthwise 3x3, "
        "ReLU6, torchvision layout",
        (3, 224, 224),
        Sequential("mobilenet-v2", tuple(layers)),
        1000,
    )


NETS = (mobilenet_v2,)
