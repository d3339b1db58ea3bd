"""The four AlexNets and the source's linear memory demonstration, as descriptors.

Layer names follow the paper-style numbering: conv1..conv5, relu1.., lrn1,
pool1, pool2, pool5, flatten, fc1, relu6, drop6, fc2, relu7, drop7, fc3.
The softmax of the papers is folded into the loss (CrossEntropyLoss applies
log-softmax), so no network ends in a Softmax layer.
"""

from __future__ import annotations

from alexprof.nets.composites import Sequential
from alexprof.nets.layers import Conv2d, Dropout, Flatten, Layer, Linear, LocalResponseNorm, ReLU
from alexprof.nets.net import Net
from alexprof.nets.pooling import AdaptiveAvgPool2d, MaxPool2d


def _alexnet_features(
    c_in: int,
    widths: tuple[int, ...],
    conv1_padding: int,
    groups: tuple[int, ...] = (1,) * 5,
    lrn: bool = False,
) -> list[Layer]:
    """conv1..conv5 with ReLUs, optional LRN after relu1/relu2, 3x3/2 max-pools."""
    kernels = (11, 5, 3, 3, 3)
    pads = (conv1_padding, 2, 1, 1, 1)
    layers: list[Layer] = []
    c = c_in
    for i, (width, k, p, g) in enumerate(zip(widths, kernels, pads, groups), start=1):
        layers.append(
            Conv2d(
                f"conv{i}",
                c,
                width,
                (k, k),
                stride=(4, 4) if i == 1 else (1, 1),
                padding=(p, p),
                groups=g,
            )
        )
        layers.append(ReLU(f"relu{i}", inplace=True))
        if lrn and i in (1, 2):
            layers.append(LocalResponseNorm(f"lrn{i}", size=5, alpha=1e-4, beta=0.75, k=2.0))
        if i in (1, 2, 5):
            layers.append(MaxPool2d(f"pool{i}", (3, 3), stride=(2, 2)))
        c = width
    return layers


def _classifier(features: int, classes: int, dropout_first: bool = False) -> list[Layer]:
    """fc1/fc2 (4096, ReLU, dropout) and fc3; torchvision puts dropout before fc1/fc2."""
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(((features, 4096), (4096, 4096)), start=1):
        fc, relu, drop = (
            Linear(f"fc{i}", n_in, n_out),
            ReLU(f"relu{i + 5}", inplace=True),
            Dropout(f"drop{i + 5}", 0.5),
        )
        layers += [drop, fc, relu] if dropout_first else [fc, relu, drop]
    layers.append(Linear("fc3", 4096, classes))
    return layers


def alexnet() -> Net:
    return Net(
        "alexnet",
        "the source material's table: d2l layout, 3x224x224, 6400-wide fc1, 1000 classes",
        (3, 224, 224),
        Sequential(
            "alexnet",
            (
                *_alexnet_features(3, (96, 256, 384, 384, 256), conv1_padding=1),
                Flatten("flatten"),
                *_classifier(6400, 1000),
            ),
        ),
        1000,
    )


def alexnet_d2l() -> Net:
    return Net(
        "alexnet-d2l",
        "d2l.ai's AlexNet for Fashion-MNIST: 1x224x224, 6400-wide fc1, 10 classes",
        (1, 224, 224),
        Sequential(
            "alexnet-d2l",
            (
                *_alexnet_features(1, (96, 256, 384, 384, 256), conv1_padding=1),
                Flatten("flatten"),
                *_classifier(6400, 10),
            ),
        ),
        10,
    )


def alexnet_2012() -> Net:
    return Net(
        "alexnet-2012",
        "Krizhevsky et al. 2012: 3x227x227, LRN, groups=2 on conv2/4/5 (two GPUs), 9216-wide fc1",
        (3, 227, 227),
        Sequential(
            "alexnet-2012",
            (
                *_alexnet_features(
                    3, (96, 256, 384, 384, 256), conv1_padding=0, groups=(1, 2, 1, 2, 2), lrn=True
                ),
                Flatten("flatten"),
                *_classifier(9216, 1000),
            ),
        ),
        1000,
    )


def alexnet_torchvision() -> Net:
    features = _alexnet_features(3, (64, 192, 384, 256, 256), conv1_padding=2)
    return Net(
        "alexnet-torchvision",
        "torchvision's layout: 64/192/384/256/256 channels, adaptive 6x6 average pool",
        (3, 224, 224),
        Sequential(
            "alexnet-torchvision",
            (
                *features,
                AdaptiveAvgPool2d("avgpool", (6, 6)),
                Flatten("flatten"),
                *_classifier(9216, 1000, dropout_first=True),
            ),
        ),
        1000,
    )


def linear_demo() -> Net:
    return Net(
        "linear-demo",
        "the source's memory demonstration: two Linear(1024, 1024, bias=False); X is 1024x1024, "
        "the step uses X[:256]",
        (1024,),
        Sequential(
            "linear-demo",
            (Linear("fc1", 1024, 1024, bias=False), Linear("fc2", 1024, 1024, bias=False)),
        ),
        1024,
        batch=256,
        stored_batch=1024,
    )


NETS = (alexnet, alexnet_d2l, alexnet_2012, alexnet_torchvision, linear_demo)
