"""ResNet, MobileNetV2 and DenseNet-121: published parameter counts, one block of each
worked out by hand, the identity shortcut, and `--verify` against torch and ptflops.

Expected parameter counts are torchvision's published figures (its model docs); per-layer
MACs are the arithmetic written beside them (output positions x kernel x channels);
the rest is measured by torch inside the test.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from alexprof import count, load_model
from alexprof.nets import Parallel, Sequential, walk

# torchvision's published parameter counts
PUBLISHED = {
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "mobilenet-v2": 3_504_872,
    "densenet121": 7_978_856,
}


def _rows(model: str) -> dict:
    return {r.name: r for r in count(load_model(model)).rows}


@pytest.mark.parametrize("model", PUBLISHED)
def test_published_parameter_count_from_the_cli(cli, model: str) -> None:
    result = cli("params", model, "-f", "json")
    assert result.code == 0, result.err
    assert result.json()["totals"]["params"] == PUBLISHED[model]


@pytest.mark.parametrize("model", PUBLISHED)
def test_parameter_count_equals_torch_numel(model: str) -> None:
    from alexprof.torchside.bridge import build

    module = build(load_model(model).body, "meta")
    assert sum(p.numel() for p in module.parameters()) == PUBLISHED[model]


def test_params_and_flops_import_no_torch() -> None:
    """`alexprof params/flops NAME` for each of them, in a fresh interpreter: no torch."""
    probe = (
        "import contextlib, io, sys\n"
        "from alexprof.cli import main\n"
        f"for model in {list(PUBLISHED)!r}:\n"
        "    for command in ('params', 'flops'):\n"
        "        with contextlib.redirect_stdout(io.StringIO()):\n"
        "            assert main([command, model, '-f', 'json']) == 0, (command, model)\n"
        "print('IMPORTED:' + ','.join(m for m in ('torch', 'ptflops') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "IMPORTED:"


# -- ResNet --------------------------------------------------------------------------------


def test_resnet18_downsample_block_by_hand() -> None:
    """layer2.0: 64x56x56 in, 128x28x28 out, a 1x1/2 projection on the shortcut."""
    rows = _rows("resnet18")
    b = "layer2.0.add."
    assert rows[b + "residual.conv1"].macs == 28 * 28 * 9 * 64 * 128  # 57,802,752 (3x3/2)
    assert rows[b + "residual.conv2"].macs == 28 * 28 * 9 * 128 * 128  # 115,605,504
    assert rows[b + "downsample.conv"].macs == 28 * 28 * 64 * 128  # 6,422,528 (1x1/2)
    assert rows[b + "residual.conv1"].params == 9 * 64 * 128  # 73,728, no bias
    assert rows[b + "downsample.conv"].params == 64 * 128  # 8,192
    assert rows[b + "downsample.bn"].params == 2 * 128
    assert rows[b + "downsample.bn"].output_shape == (128, 28, 28)
    assert rows["layer2.0.relu"].output_shape == (128, 28, 28)  # after the add
    # forward FLOPs = 2 x MACs; backward = grad-input + grad-weight (2 x MACs each)
    assert rows[b + "residual.conv2"].flops == 2 * 115_605_504
    assert rows[b + "residual.conv2"].flops_backward == 4 * 115_605_504
    assert "layer1.0.add.identity" not in rows  # the identity shortcut has no row


def test_resnet50_bottlenecks_by_hand() -> None:
    rows = _rows("resnet50")
    b = "layer1.0.add."  # 64x56x56 in, width 64, 256 out, stride 1 but wider: projection
    assert rows[b + "residual.conv1"].macs == 56 * 56 * 64 * 64  # 12,845,056
    assert rows[b + "residual.conv2"].macs == 56 * 56 * 9 * 64 * 64  # 115,605,504
    assert rows[b + "residual.conv3"].macs == 56 * 56 * 64 * 256  # 51,380,224
    assert rows[b + "downsample.conv"].macs == 56 * 56 * 64 * 256  # 51,380,224
    b = "layer2.0.add."  # 256x56x56 in: the stride sits on the 3x3 (torchvision v1.5)
    assert rows[b + "residual.conv1"].macs == 56 * 56 * 256 * 128  # 102,760,448 at 56x56
    assert rows[b + "residual.conv2"].macs == 28 * 28 * 9 * 128 * 128  # 115,605,504 at 28x28
    assert rows[b + "downsample.conv"].macs == 28 * 28 * 256 * 512  # 102,760,448
    # the published total: 4.09 GMACs (torchvision's "GFLOPS" column)
    assert round(count(load_model("resnet50")).total("macs") / 1e7) == 409


def test_resnet_blocks_are_residual_adds() -> None:
    body = load_model("resnet18").body
    layer1 = next(c for c in body.layers if c.name == "layer1")
    assert isinstance(layer1, Sequential)
    block = layer1.layers[0]
    assert isinstance(block, Sequential) and [c.name for c in block.layers] == ["add", "relu"]
    add = block.layers[0]
    assert isinstance(add, Parallel) and add.merge == "add"
    assert [b.name for b in add.branches] == ["residual", "identity"]
    identity = add.branches[1]
    assert isinstance(identity, Sequential) and identity.layers == ()
    downsampling = sum(
        1 for p in walk(body, (3, 224, 224)) if p.path.endswith(".add.downsample.conv")
    )
    assert downsampling == 3  # the first block of layer2, layer3 and layer4


def test_empty_sequential_builds_as_the_identity() -> None:
    import torch

    from alexprof.torchside.bridge import build, to_module

    module = to_module(Sequential("identity", ()))
    x = torch.randn(2, 4, 3, 3)
    assert module(x) is x  # nn.Sequential() hands its input on
    block = load_model("resnet18").body.layers[4].layers[1]  # layer1.1
    torch_block = build(Sequential("b", (block,)), "cpu", init=True).eval()
    x = torch.randn(1, 64, 8, 8)
    add = torch_block.get_submodule("1.add")
    with torch.no_grad():
        residual = add.get_submodule("residual")(x)
        assert torch.allclose(torch_block(x), torch.relu(residual + x))


# -- MobileNetV2 -----------------------------------------------------------------------------


def test_mobilenet_v2_blocks_by_hand() -> None:
    rows = _rows("mobilenet-v2")
    f = "features.2."  # t=6, c=24, s=2: 16x112x112 in, 96 hidden, 24x56x56 out; no residual
    assert rows[f + "conv.expand.conv"].macs == 112 * 112 * 16 * 96  # 19,267,584
    assert rows[f + "conv.depthwise.conv"].macs == 56 * 56 * 9 * 96  # 2,709,504 (groups=96)
    assert rows[f + "conv.project"].macs == 56 * 56 * 96 * 24  # 7,225,344
    assert rows[f + "conv.depthwise.conv"].params == 9 * 96  # 864: one 3x3 filter a channel
    assert rows[f + "conv.project"].output_shape == (24, 56, 56)
    f = "features.3."  # the repeat: stride 1, 24 -> 24, so residual; 144 hidden
    assert rows[f + "conv.expand.conv"].macs == 56 * 56 * 24 * 144  # 10,838,016
    assert rows[f + "conv.depthwise.conv"].macs == 56 * 56 * 9 * 144  # 4,064,256
    assert rows[f + "conv.project"].macs == 56 * 56 * 144 * 24  # 10,838,016
    assert "features.1.conv.expand.conv" not in rows  # t = 1: no expansion
    assert rows["classifier"].params == 1280 * 1000 + 1000
    # the published total: 300 M MACs (0.30 "GFLOPS" in torchvision's table)
    assert round(count(load_model("mobilenet-v2")).total("macs") / 1e6) == 301


def test_mobilenet_v2_residual_only_at_stride_1_and_same_width() -> None:
    from alexprof.nets.zoo.mobilenet import SETTING, make_divisible

    features = load_model("mobilenet-v2").body.layers[0]
    assert isinstance(features, Sequential)
    blocks = features.layers[1:-1]
    assert len(blocks) == sum(n for _, _, n, _ in SETTING) == 17
    residual = [b.name for b in blocks if isinstance(b, Parallel)]
    # repeats after the first of each group with n > 1: 24 (1), 32 (2), 64 (3), 96 (2), 160 (2)
    assert residual == ["3", "5", "6", "8", "9", "10", "12", "13", "15", "16"]
    assert all(b.merge == "add" for b in blocks if isinstance(b, Parallel))
    # torchvision's _make_divisible: nearest multiple of 8, never more than 10% below
    assert [make_divisible(v) for v in (32, 1280, 16, 24)] == [32, 1280, 16, 24]
    assert [make_divisible(v) for v in (32 * 0.75, 16 * 0.5, 1280 * 1.4, 3)] == [24, 8, 1792, 8]
    assert make_divisible(20.0) == 24  # 16 would lose 20%


def test_mobilenet_v2_uses_relu6_and_dropout() -> None:
    types = [r.type for r in count(load_model("mobilenet-v2")).rows]
    assert types.count("ReLU6") == 1 + 16 * 2 + 1 + 1  # stem, 16 expanding blocks x 2, t=1, head
    assert "ReLU" not in types
    drop = next(r for r in load_model("mobilenet-v2").leaves() if r.layer.kind == "Dropout")
    assert drop.layer.p == 0.2  # type: ignore[attr-defined]


# -- DenseNet-121 ----------------------------------------------------------------------------


def test_densenet121_parameters_by_hand() -> None:
    """7,978,856 from the architecture: every dense layer on c channels has BN(c), 1x1
    c -> 128, BN(128), 3x3 128 -> 32; every transition BN(c) and 1x1 c -> c/2."""
    total, c = 7 * 7 * 3 * 64 + 2 * 64, 64  # conv0, norm0
    for b, depth in enumerate((6, 12, 24, 16)):
        for _ in range(depth):
            total += 2 * c + c * 128 + 2 * 128 + 9 * 128 * 32
            c += 32
        if b < 3:
            total += 2 * c + c * (c // 2)
            c //= 2
    total += 2 * c + c * 1000 + 1000  # norm5, classifier
    assert c == 1024
    assert total == 7_978_856 == count(load_model("densenet121")).total("params")


def test_densenet121_layers_by_hand() -> None:
    rows = _rows("densenet121")
    d = "denseblock1.denselayer1.new."  # 64x56x56 in
    assert rows[d + "conv1"].macs == 56 * 56 * 64 * 128  # 25,690,112
    assert rows[d + "conv2"].macs == 56 * 56 * 9 * 128 * 32  # 115,605,504
    assert rows[d + "conv2"].output_shape == (32, 56, 56)
    d = "denseblock1.denselayer6.new."  # 64 + 5 x 32 = 224 channels in
    assert rows[d + "norm1"].params == 2 * 224
    assert rows[d + "conv1"].macs == 56 * 56 * 224 * 128  # 89,915,392
    assert rows["transition1.conv"].macs == 56 * 56 * 256 * 128  # 102,760,448
    assert rows["transition1.pool"].output_shape == (128, 28, 28)
    assert rows["denseblock4.denselayer16.new.conv2"].output_shape == (32, 7, 7)
    assert rows["norm5"].output_shape == (1024, 7, 7)
    # the published total: 2.83 GMACs (torchvision's "GFLOPS" column)
    assert round(count(load_model("densenet121")).total("macs") / 1e7) == 283


def test_densenet_concat_keeps_torchvision_channel_order() -> None:
    """torchvision concatenates [previous features..., new]: the input channels come first,
    unchanged, then the 32 new ones (measured by torch on a real forward)."""
    import torch

    from alexprof.torchside.bridge import build

    layer = load_model("densenet121").body.layers[4].layers[0]  # denseblock1.denselayer1
    assert isinstance(layer, Parallel) and layer.merge == "concat"
    assert [b.name for b in layer.branches] == ["identity", "new"]
    module = build(Sequential("b", (layer,)), "cpu", init=True).eval()
    x = torch.randn(1, 64, 6, 6)
    with torch.no_grad():
        out = module(x)
        new = module.get_submodule("denselayer1.new")(x)
    assert out.shape == (1, 96, 6, 6)
    assert torch.equal(out[:, :64], x) and torch.equal(out[:, 64:], new)


# -- against torch and ptflops ----------------------------------------------------------------

# `alexprof flops NAME --verify` (meta for torch and FlopCounterMode, CPU for ptflops):
# 5-13 s a command on 2 cores, imports included; 1-3 s each inside the suite
VERIFY = list(PUBLISHED)


@pytest.mark.parametrize("model", VERIFY)
def test_verify_exits_0(cli, model: str) -> None:
    result = cli("flops", model, "--verify", "-f", "json")
    assert result.code == 0, result.err[-2000:]
    verification = result.json()["verification"]
    assert verification["passed"]
    sources = {c["source"] for c in verification["checks"]}
    assert sources == {"torch", "flopcounter", "ptflops", "aten"}
    assert not [c for c in verification["checks"] if c["status"] not in ("match", "explained")]


@pytest.mark.parametrize("model", ["resnet18", "mobilenet-v2", "densenet121"])
def test_memory_prediction_exact_on_a_cpu_step(model: str) -> None:
    """The memory model replays the identity branch (an empty Sequential) of an add and of
    a concat exactly as torch allocates: every stage to the byte, 3x32x32 inputs."""
    from tests.torchside.test_tracer import assert_exact

    net = dataclasses.replace(load_model(model), input_shape=(3, 32, 32))
    assert_exact(net, 2, "sgd-momentum")


def test_torchvision_spellings_name_the_same_networks(cli) -> None:
    for spelled, name in (("mobilenet_v2", "mobilenet-v2"), ("vgg16_bn", "vgg16-bn")):
        a, b = cli("params", spelled, "-f", "json"), cli("params", name, "-f", "json")
        assert a.code == b.code == 0 and a.json()["totals"] == b.json()["totals"]
