"""LeNet-5, VGG and GoogLeNet: published figures, shapes and the side-branch rules.

Expected values are the published figures or arithmetic written out here;
parameter counts are also measured by torch (numel) inside the tests.
"""

from __future__ import annotations

import pytest

from alexprof import count, load_model
from alexprof.nets import Side, walk

# name -> (params, MACs without bias); params are the published / torchvision figures
REFERENCE = {
    "lenet5": (61_706, None),
    "vgg11": (132_863_336, None),
    "vgg16": (138_357_544, 15_470_264_320),
    "vgg16-bn": (138_365_992, 15_470_264_320),
    "googlenet": (6_624_904, None),
    "googlenet-aux": (13_004_888, None),
}


@pytest.mark.parametrize("model", REFERENCE)
def test_published_parameter_counts(model: str) -> None:
    params, macs = REFERENCE[model]
    totals = count(load_model(model)).totals()
    assert totals["params"] == params
    if macs is not None:
        assert totals["macs"] == macs


@pytest.mark.parametrize("model", REFERENCE)
def test_parameter_counts_equal_torch_numel(model: str) -> None:
    from alexprof.torchside.bridge import build

    module = build(load_model(model).body, "meta")
    assert sum(p.numel() for p in module.parameters()) == REFERENCE[model][0]


def test_lenet5_rows_by_hand() -> None:
    rows = {r.name: r for r in count(load_model("lenet5")).rows}
    assert rows["c1"].params == 5 * 5 * 1 * 6 + 6 == 156
    assert rows["c3"].params == 5 * 5 * 6 * 16 + 16 == 2_416  # C3 fully connected
    assert rows["c5"].params == 5 * 5 * 16 * 120 + 120 == 48_120
    assert rows["f6"].params == 120 * 84 + 84 == 10_164
    assert rows["output"].params == 84 * 10 + 10 == 850
    assert rows["c5"].output_shape == (120, 1, 1)
    assert rows["c1"].macs == 28 * 28 * 25 * 6  # 117,600


def test_vgg16_macs_block_by_block() -> None:
    rows = count(load_model("vgg16")).rows
    conv = {b: sum(r.macs for r in rows if r.name.startswith(f"conv{b}_")) for b in range(1, 6)}
    assert conv[1] == 224 * 224 * 9 * (3 * 64 + 64 * 64)  # 1,936,392,192
    assert conv[2] == 112 * 112 * 9 * (64 * 128 + 128 * 128)  # 2,774,532,096
    assert conv[3] == 56 * 56 * 9 * (128 * 256 + 2 * 256 * 256)  # 4,624,220,160
    assert conv[4] == 28 * 28 * 9 * (256 * 512 + 2 * 512 * 512)  # 4,624,220,160
    assert conv[5] == 14 * 14 * 9 * (3 * 512 * 512)  # 1,387,266,048
    fc = sum(r.macs for r in rows if r.type == "Linear")
    assert fc == 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000  # 123,633,664


def test_vgg16_bn_adds_two_params_per_channel() -> None:
    bn = [r for r in count(load_model("vgg16-bn")).rows if r.type == "BatchNorm2d"]
    widths = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
    assert [r.params for r in bn] == [2 * w for w in widths]
    assert sum(2 * w for w in widths) == 138_365_992 - 138_357_544  # 8,448


def test_googlenet_shapes() -> None:
    out = {r.name: r.output_shape for r in count(load_model("googlenet")).rows}
    assert out["maxpool1"] == (64, 56, 56)  # ceil((112-3)/2)+1
    assert out["inception3a.branch1.conv"] == (64, 28, 28)
    assert out["inception4e.branch4.proj.relu"] == (128, 14, 14)
    assert out["maxpool4"] == (832, 7, 7)
    assert out["avgpool"] == (1024, 1, 1)


def test_inception_block_concatenates_branches() -> None:
    net = load_model("googlenet")
    block = next(c for c in net.body.layers if c.name == "inception3a")
    assert block.output_shape((192, 28, 28)) == (64 + 128 + 32 + 32, 28, 28)


def test_aux_heads_are_the_difference() -> None:
    aux = (512 * 128 + 2 * 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)  # 3,188,968
    aux += (528 * 128 + 2 * 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)  # 3,191,016
    assert 6_624_904 + aux == 13_004_888
    with_aux, without = count(load_model("googlenet-aux")), count(load_model("googlenet"))
    head_macs = 4 * 4 * 512 * 128 + 4 * 4 * 528 * 128 + 2 * (2048 * 1024 + 1024 * 1000)
    assert with_aux.total("macs") - without.total("macs") == head_macs  # 8,372,224


def test_side_branch_rows_are_training_only() -> None:
    placed = list(walk(load_model("googlenet-aux").body, (3, 224, 224)))
    aux = [p for p in placed if p.name.startswith("aux")]
    assert aux and all(p.training_only for p in aux)
    assert not any(p.training_only for p in placed if not p.name.startswith("aux"))
    assert aux[0].name == "aux1.pool" and aux[0].in_shape == (512, 14, 14)
    assert aux[0].input_needs_grad  # the trunk before it has parameters
    first = next(p for p in placed if p.name == "conv1.conv")
    assert not first.input_needs_grad


@pytest.mark.parametrize("convention, runs", [("macs", True), ("flopcounter", True),
                                              ("ptflops", False), ("aten", False)])
def test_eval_mode_peers_skip_side_branches(convention: str, runs: bool) -> None:
    rows = [r for r in count(load_model("googlenet-aux"), convention=convention).rows
            if r.name.startswith("aux")]
    fc1 = next(r for r in rows if r.name == "aux1.fc1")
    assert fc1.params == 2048 * 1024 + 1024  # parameters exist in every mode
    assert (fc1.macs > 0) is runs and (fc1.flops_backward > 0) is runs


def test_side_keeps_the_main_shape_and_checks_its_branch() -> None:
    from alexprof.errors import ShapeError
    from alexprof.nets import Linear

    side = Side("aux", (Linear("fc", 10, 2),))
    assert side.output_shape((10,)) == (10,)
    with pytest.raises(ShapeError, match="'fc'"):
        side.output_shape((11,))


def test_side_module_runs_in_train_mode_only() -> None:
    import torch

    from alexprof.torchside.bridge import build, side_outputs

    module = build(load_model("googlenet-aux").body, "meta")
    x = torch.empty((2, 3, 96, 96), device="meta")
    module.train()
    assert module(x).shape == (2, 1000)
    outs = side_outputs(module)
    assert [(w, tuple(t.shape)) for w, t in outs] == [(0.3, (2, 1000)), (0.3, (2, 1000))]
    module.eval()
    module(x)
    assert side_outputs(module) == []
