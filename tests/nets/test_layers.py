from __future__ import annotations

import pytest

from alexprof.errors import ShapeError, UsageError
from alexprof.nets import Conv2d, Linear, MaxPool2d, Parallel, ReLU, Sequential, window_out, walk


def test_descriptors_are_immutable() -> None:
    conv = Conv2d("c", 3, 8, 3)
    with pytest.raises(AttributeError):
        conv.out_channels = 4  # type: ignore[misc]


@pytest.mark.parametrize("kwargs, message", [
    (dict(in_channels=3, out_channels=8, kernel_size=0), "kernel_size=(0, 0) must be >= 1"),
    (dict(in_channels=3, out_channels=8, kernel_size=3, groups=2), "groups=2 must divide"),
    (dict(in_channels=3, out_channels=8, kernel_size=3, padding=-1), "padding=(-1, -1) must be >= 0"),
])
def test_conv_validation_names_the_value(kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Conv2d("bad", **kwargs)


def test_pool_padding_at_most_half_kernel() -> None:
    with pytest.raises(UsageError, match="at most half"):
        MaxPool2d("p", 2, padding=2)


def test_window_out_ceil_mode_drops_window_starting_in_padding() -> None:
    # size 5, k 2, s 2, ceil: ceil((5-2)/2)+1 = 3 windows, the last starts at 4 < 5: kept
    assert window_out(5, 2, 2, 0, ceil_mode=True) == 3
    # size 4, k 2, s 2, p 1, ceil: ceil((4+2-2)/2)+1 = 3; last starts at 4 = size+p-1 ... kept
    assert window_out(4, 2, 2, 1, ceil_mode=True) == 3
    # size 2, k 1, s 2, p 0: floor(1/2)+1 = 1; ceil: ceil(1/2)+1 = 2, start 2 >= 2+0: dropped
    assert window_out(2, 1, 2, 0, ceil_mode=True) == 1
    # size 1, k 2, s 2: span = 1-1-1 = -1; floor: floor(-1/2)+1 = 0 (too small),
    # ceil: floor((-1+1)/2)+1 = 1 -- PyTorch keeps one window wider than the input
    assert window_out(1, 2, 2, 0) == 0
    assert window_out(1, 2, 2, 0, ceil_mode=True) == 1


def test_too_small_input_names_the_layer() -> None:
    net = Sequential("n", (Conv2d("conv1", 3, 4, 5), MaxPool2d("pool1", 3, 2)))
    with pytest.raises(ShapeError, match=r"layer 'conv1' .*3x4x4 -> 4x0x0"):
        list(walk(net, (3, 4, 4)))


def test_linear_feature_mismatch() -> None:
    with pytest.raises(ShapeError, match="expects 10 input features, got 12"):
        Linear("fc", 10, 2).output_shape((12,))


def test_duplicate_names_refused() -> None:
    with pytest.raises(UsageError, match="two children are named 'a'"):
        Sequential("s", (ReLU("a"), ReLU("a")))


def test_parallel_concat_and_add() -> None:
    block = Parallel("mix", (
        Sequential("b1", (Conv2d("conv", 4, 8, 1),)),
        Sequential("b2", (Conv2d("conv", 4, 16, 3, padding=1),)),
    ))
    assert block.output_shape((4, 10, 10)) == (24, 10, 10)  # 8 + 16 channels
    names = [p.name for p in walk(Sequential("net", (block,)), (4, 10, 10))]
    assert names == ["mix.b1.conv", "mix.b2.conv"]
    residual = Parallel("res", (Sequential("body", (Conv2d("conv", 4, 4, 3, padding=1),)),
                                Sequential("shortcut", ())), merge="add")
    assert residual.output_shape((4, 10, 10)) == (4, 10, 10)
