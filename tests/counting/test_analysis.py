"""Analytic counts against figures derived by hand (arithmetic in the comments)."""

from __future__ import annotations

import pytest

from alexprof import count, load_model


def rows(model: str, **kw):
    return {r.name: r for r in count(load_model(model), **kw).rows}


def test_alexnet_table_of_the_source_material() -> None:
    r = rows("alexnet")
    # conv weights, bias apart: k*k*c_in*c_out
    assert r["conv1"].weights == 11 * 11 * 3 * 96 == 34_848
    assert r["conv2"].weights == 5 * 5 * 96 * 256 == 614_400
    assert r["conv3"].weights == 3 * 3 * 256 * 384 == 884_736
    assert r["conv4"].weights == 3 * 3 * 384 * 384 == 1_327_104
    assert r["conv5"].weights == 3 * 3 * 384 * 256 == 884_736
    # fc weights + bias: in*out + out
    assert r["fc1"].params == 6400 * 4096 + 4096 == 26_218_496
    assert r["fc2"].params == 4096 * 4096 + 4096 == 16_781_312
    assert r["fc3"].params == 4096 * 1000 + 1000 == 4_097_000  # the source's 4,100,096 = 4096*1001
    assert r["fc3"].params != 4_100_096


def test_alexnet_totals_and_the_mixed_rule() -> None:
    report = count(load_model("alexnet"))
    conv_w = 34_848 + 614_400 + 884_736 + 1_327_104 + 884_736  # 3,745,824
    fc = 26_218_496 + 16_781_312 + 4_097_000  # 47,096,808
    conv_b = 96 + 256 + 384 + 384 + 256  # 1,376
    assert report.table_rule_params() == conv_w + fc == 50_842_632
    assert report.totals()["params"] == conv_w + fc + conv_b == 50_844_008


def test_alexnet_shapes_walk() -> None:
    r = rows("alexnet")
    # conv1: floor((224 + 2*1 - 11) / 4) + 1 = 54; pool 3/2: floor((54-3)/2)+1 = 26
    assert r["conv1"].output_shape == (96, 54, 54)
    assert r["pool1"].output_shape == (96, 26, 26)
    assert r["conv2"].output_shape == (256, 26, 26)
    assert r["pool2"].output_shape == (256, 12, 12)  # floor((26-3)/2)+1
    assert r["pool5"].output_shape == (256, 5, 5)  # floor((12-3)/2)+1
    assert r["flatten"].output_shape == (5 * 5 * 256,) == (6400,)


def test_alexnet_macs() -> None:
    r = rows("alexnet")
    assert r["conv1"].macs == 54 * 54 * 11 * 11 * 3 * 96 == 101_616_768
    assert r["conv2"].macs == 26 * 26 * 5 * 5 * 96 * 256 == 415_334_400
    assert r["conv4"].macs == 12 * 12 * 3 * 3 * 384 * 384 == 191_102_976
    assert r["fc1"].macs == 6400 * 4096
    assert r["relu1"].macs == 0 and r["pool1"].macs == 0
    report = count(load_model("alexnet"))
    # 962,858,112 conv + 47,087,616 fc
    assert report.totals()["macs"] == 1_009_945_728
    assert report.totals()["flops"] == 2 * 1_009_945_728


def test_heaviest_layers() -> None:
    report = count(load_model("alexnet"))
    assert report.heaviest("params").name == "fc1"
    assert report.heaviest("flops").name == "conv2"


def test_alexnet_2012_paper_network() -> None:
    r = rows("alexnet-2012")
    # conv1 no padding: (227 - 11)/4 + 1 = 55; pools 55 -> 27 -> 13 -> 6
    assert r["conv1"].output_shape == (96, 55, 55)
    assert r["pool1"].output_shape == (96, 27, 27)
    assert r["conv2"].output_shape == (256, 27, 27)
    assert r["pool5"].output_shape == (256, 6, 6)
    assert r["flatten"].output_shape == (9216,)
    # groups=2: each filter sees half the channels
    assert r["conv2"].weights == 5 * 5 * (96 // 2) * 256 == 307_200
    assert r["conv4"].weights == 3 * 3 * (384 // 2) * 384 == 663_552
    assert r["conv5"].weights == 3 * 3 * (384 // 2) * 256 == 442_368
    assert r["fc1"].params == 9216 * 4096 + 4096
    conv = (11 * 11 * 3 * 96 + 96) + (307_200 + 256) + (3 * 3 * 256 * 384 + 384) \
        + (663_552 + 384) + (442_368 + 256)  # 2,334,080
    fc = (9216 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)  # 58,631,144
    assert count(load_model("alexnet-2012")).totals()["params"] == conv + fc == 60_965_224


def test_torchvision_layout() -> None:
    totals = count(load_model("alexnet-torchvision")).totals()
    # conv1 11x11/4 pad 2: (224+4-11)//4+1 = 55; pools 55 -> 27 -> 13 -> 6
    conv_w = (11 * 11 * 3 * 64, 5 * 5 * 64 * 192, 3 * 3 * 192 * 384, 3 * 3 * 384 * 256,
              3 * 3 * 256 * 256)
    conv_b = 64 + 192 + 384 + 256 + 256
    fc_w = (9216 * 4096, 4096 * 4096, 4096 * 1000)
    fc_b = 4096 + 4096 + 1000
    assert totals["params"] == sum(conv_w) + conv_b + sum(fc_w) + fc_b == 61_100_840
    positions = (55 * 55, 27 * 27, 13 * 13, 13 * 13, 13 * 13)  # H_out * W_out per conv
    macs = sum(p * w for p, w in zip(positions, conv_w)) + sum(fc_w)
    assert totals["macs"] == macs == 714_188_480


def test_d2l_variant() -> None:
    r = rows("alexnet-d2l")
    assert r["conv1"].weights == 11 * 11 * 1 * 96
    assert r["fc3"].params == 4096 * 10 + 10


def test_batch_scales_arithmetic_not_parameters() -> None:
    one = count(load_model("alexnet"), batch=1).totals()
    many = count(load_model("alexnet"), batch=7).totals()
    assert many["params"] == one["params"]
    assert many["macs"] == 7 * one["macs"]
    assert many["flops_backward"] == 7 * one["flops_backward"]


def test_backward_skips_grad_input_of_first_layer() -> None:
    r = rows("alexnet")
    assert r["conv1"].flops_backward == 2 * r["conv1"].macs  # grad-weight only
    assert r["conv2"].flops_backward == 2 * 2 * r["conv2"].macs  # grad-input + grad-weight


@pytest.mark.parametrize("convention, fc3, relu1, pool1", [
    ("macs", 4096 * 1000, 0, 0),
    ("flopcounter", 4096 * 1000, 0, 0),
    ("aten", 4096 * 1000 + 1000, 0, 0),  # bias adds counted
    ("ptflops", 4096 * 1000 + 1000, 96 * 54 * 54, 96 * 54 * 54),  # ReLU out / pool in elements
])
def test_conventions(convention: str, fc3: int, relu1: int, pool1: int) -> None:
    r = rows("alexnet", convention=convention)
    assert r["fc3"].macs == fc3
    assert r["relu1"].macs == relu1
    assert r["pool1"].macs == pool1
    if convention in ("aten", "ptflops"):
        assert r["conv1"].macs == 101_616_768 + 96 * 54 * 54  # + one bias add per output element



@pytest.mark.parametrize("convention", ["macs", "flopcounter", "ptflops", "aten"])
def test_lrn_is_free_under_every_convention(convention: str) -> None:
    # no peer counts LRN as a module (ptflops' functional double count is a total-only quirk)
    r = rows("alexnet-2012", convention=convention)
    assert r["lrn1"].macs == 0 and r["lrn2"].macs == 0
