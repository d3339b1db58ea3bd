"""LeNet-5 and VGG, written from their published definitions.

* LeNet-5 (LeCun et al. 1998), the classic 1x32x32 layout: C1 6@5x5 -> S2 2x2
  average pooling -> C3 16@5x5 -> S4 -> C5 120@5x5 (a convolution that leaves
  1x1) -> F6 84 -> 10 outputs, tanh after every learned layer but the last.
  C3 is fully connected here (the paper wires 60 of the 96 map pairs) and the
  output is a linear layer in place of the paper's RBF units; that is the layout
  behind the usual 61,706 parameters.
* VGG (Simonyan & Zisserman 2014) in torchvision's layout: 3x3 convolutions with
  padding 1 and ReLU, 2x2 max-pools, an adaptive 7x7 average pool, then FC 4096,
  4096, 1000 with dropout after each hidden FC.  Names follow the paper's Caffe
  models: conv1_1 .. conv5_3, pool1 .. pool5, fc6, fc7, fc8.
"""

from __future__ import annotations

from alexprof.nets.composites import Sequential
from alexprof.nets.layers import BatchNorm2d, Conv2d, Dropout, Flatten, Layer, Linear, ReLU, Tanh
from alexprof.nets.net import Net
from alexprof.nets.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d


def lenet5() -> Net:
    return Net(
        "lenet5",
        "LeCun et al. 1998: 1x32x32, C1-S2-C3-S4-C5-F6-output, tanh, 2x2 average pooling",
        (1, 32, 32),
        Sequential(
            "lenet5",
            (
                Conv2d("c1", 1, 6, (5, 5)),
                Tanh("tanh1"),
                AvgPool2d("s2", (2, 2)),
                Conv2d("c3", 6, 16, (5, 5)),
                Tanh("tanh3"),
                AvgPool2d("s4", (2, 2)),
                Conv2d("c5", 16, 120, (5, 5)),
                Tanh("tanh5"),
                Flatten("flatten"),
                Linear("f6", 120, 84),
                Tanh("tanh6"),
                Linear("output", 84, 10),
            ),
        ),
        10,
    )


# convolution widths per block (torchvision's configurations "A" and "D")
_VGG11 = ((64,), (128,), (256, 256), (512, 512), (512, 512))
_VGG16 = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def _vgg(
    name: str, description: str, blocks: tuple[tuple[int, ...], ...], batch_norm: bool = False
) -> Net:
    layers: list[Layer] = []
    c = 3
    for b, widths in enumerate(blocks, start=1):
        for i, width in enumerate(widths, start=1):
            tag = f"{b}_{i}"
            layers.append(Conv2d(f"conv{tag}", c, width, (3, 3), padding=(1, 1)))
            if batch_norm:
                layers.append(BatchNorm2d(f"bn{tag}", width))
            layers.append(ReLU(f"relu{tag}", inplace=True))
            c = width
        layers.append(MaxPool2d(f"pool{b}", (2, 2), stride=(2, 2)))
    layers += [AdaptiveAvgPool2d("avgpool", (7, 7)), Flatten("flatten")]
    for i, (n_in, n_out) in enumerate(((c * 7 * 7, 4096), (4096, 4096)), start=6):
        layers += [
            Linear(f"fc{i}", n_in, n_out),
            ReLU(f"relu{i}", inplace=True),
            Dropout(f"drop{i}", 0.5),
        ]
    layers.append(Linear("fc8", 4096, 1000))
    return Net(name, description, (3, 224, 224), Sequential(name, tuple(layers)), 1000)


def vgg11() -> Net:
    return _vgg(
        "vgg11", "Simonyan & Zisserman 2014 config A: 8 conv + 3 FC, torchvision layout", _VGG11
    )


def vgg16() -> Net:
    return _vgg(
        "vgg16", "Simonyan & Zisserman 2014 config D: 13 conv + 3 FC, torchvision layout", _VGG16
    )


def vgg16_bn() -> Net:
    return _vgg(
        "vgg16-bn",
        "VGG16 with BatchNorm2d after every convolution (torchvision's vgg16_bn)",
        _VGG16,
        batch_norm=True,
    )


NETS = (lenet5, vgg11, vgg16, vgg16_bn)
