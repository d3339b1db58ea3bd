"""ResNet (He et al. 2015, "Deep Residual Learning for Image Recognition") in torchvision's
layout.

The stem is conv1 7x7/2 (64, no bias), bn1, relu, a 3x3/2 max-pool (padding 1); then four
stages ``layer1`` .. ``layer4`` of 64, 128, 256, 512 base channels (stride 2 at the first
block of layer2..4), an adaptive 1x1 average pool and ``fc``.  Every convolution is
bias-free and followed by BatchNorm2d.

A residual block is ``Sequential(Parallel(residual, shortcut, merge="add"), ReLU)``: the
residual path and the shortcut see the same input and are added, then a ReLU.  The
shortcut is an empty ``Sequential`` named ``identity`` (it hands its input on), or, where
the block changes the stride or the width, ``downsample``: conv1x1 (with the block's
stride) and BatchNorm2d (the paper's projection shortcut, option B).

* ``BasicBlock`` (ResNet-18/34): conv3x3 - bn - relu - conv3x3 - bn.
* ``Bottleneck`` (ResNet-50/101): conv1x1 - bn - relu - conv3x3 - bn - relu - conv1x1 (4x
  wider) - bn, with the stride on the 3x3 convolution (torchvision's "ResNet v1.5"; the
  paper strides the first 1x1, which changes MACs, not parameters).

Rows read ``layer2.0.add.residual.conv1``, ``layer2.0.add.downsample.conv``,
``layer2.0.relu`` (torchvision: ``layer2.0.conv1``, ``layer2.0.downsample.0``).
"""

from __future__ import annotations

from alexprof.nets.composites import Parallel, Sequential
from alexprof.nets.layers import BatchNorm2d, Conv2d, Flatten, Layer, Linear, ReLU
from alexprof.nets.net import Net
from alexprof.nets.pooling import AdaptiveAvgPool2d, MaxPool2d


def _conv(name: str, c_in: int, c_out: int, kernel: int, stride: int = 1) -> Conv2d:
    """A bias-free convolution with 'same' padding for odd kernels (torchvision's conv3x3/1x1)."""
    pad = kernel // 2
    return Conv2d(name, c_in, c_out, (kernel, kernel), (stride, stride), (pad, pad), bias=False)


def _block(name: str, residual: tuple[Layer, ...], c_in: int, c_out: int, stride: int) -> Layer:
    """The residual path plus the shortcut, added, then ReLU."""
    if stride != 1 or c_in != c_out:
        shortcut = Sequential(
            "downsample", (_conv("conv", c_in, c_out, 1, stride), BatchNorm2d("bn", c_out))
        )
    else:
        shortcut = Sequential("identity", ())
    add = Parallel("add", (Sequential("residual", residual), shortcut), merge="add")
    return Sequential(name, (add, ReLU("relu", inplace=True)))


def basic_block(name: str, c_in: int, planes: int, stride: int) -> Layer:
    residual = (
        _conv("conv1", c_in, planes, 3, stride),
        BatchNorm2d("bn1", planes),
        ReLU("relu", inplace=True),
        _conv("conv2", planes, planes, 3),
        BatchNorm2d("bn2", planes),
    )
    return _block(name, residual, c_in, planes, stride)


def bottleneck(name: str, c_in: int, planes: int, stride: int) -> Layer:
    c_out = planes * 4
    residual = (
        _conv("conv1", c_in, planes, 1),
        BatchNorm2d("bn1", planes),
        ReLU("relu1", inplace=True),
        _conv("conv2", planes, planes, 3, stride),
        BatchNorm2d("bn2", planes),
        ReLU("relu2", inplace=True),
        _conv("conv3", planes, c_out, 1),
        BatchNorm2d("bn3", c_out),
    )
    return _block(name, residual, c_in, c_out, stride)


def _resnet(name: str, description: str, depths: tuple[int, ...], bottlenecks: bool) -> Net:
    make, expansion = (bottleneck, 4) if bottlenecks else (basic_block, 1)
    layers: list[Layer] = [
        _conv("conv1", 3, 64, 7, 2),
        BatchNorm2d("bn1", 64),
        ReLU("relu", inplace=True),
        MaxPool2d("maxpool", (3, 3), stride=(2, 2), padding=(1, 1)),
    ]
    c = 64
    for stage, (planes, depth) in enumerate(zip((64, 128, 256, 512), depths), start=1):
        blocks = []
        for i in range(depth):
            stride = 2 if stage > 1 and i == 0 else 1
            blocks.append(make(str(i), c, planes, stride))
            c = planes * expansion
        layers.append(Sequential(f"layer{stage}", tuple(blocks)))
    layers += [
        AdaptiveAvgPool2d("avgpool", (1, 1)),
        Flatten("flatten"),
        Linear("fc", c, 1000),
    ]
    return Net(name, description, (3, 224, 224), Sequential(name, tuple(layers)), 1000)


def resnet18() -> Net:
    return _resnet(
        "resnet18",
        "He et al. 2015 ResNet-18: basic blocks (2, 2, 2, 2), torchvision layout",
        (2, 2, 2, 2),
        bottlenecks=False,
    )


def resnet34() -> Net:
    return _resnet(
        "resnet34",
        "He et al. 2015 ResNet-34: basic blocks (3, 4, 6, 3), torchvision layout",
        (3, 4, 6, 3),
        bottlenecks=False,
    )


def resnet50() -> Net:
    return _resnet(
        "resnet50",
        "He et al. 2015 ResNet-50: bottlenecks (3, 4, 6, 3), stride on the 3x3 (torchvision v1.5)",
        (3, 4, 6, 3),
        bottlenecks=True,
    )


def resnet101() -> Net:
    return _resnet(
        "resnet101",
        "He et al. 2015 ResNet-101: bottlenecks (3, 4, 23, 3), stride on the 3x3 "
        "(torchvision v1.5)",
        (3, 4, 23, 3),
        bottlenecks=True,
    )


NETS = (resnet18, resnet34, resnet50, resnet101)
