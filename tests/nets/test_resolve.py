"""User modules: extraction on meta, unsupported rows, verification and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from alexprof import count, load_model
from alexprof.report.verify import TOTAL, verify
from alexprof.torchside.measure import measure_all
from alexprof.errors import UsageError
from alexprof.nets.resolve import kind_of, resolve

USERNETS = Path(__file__).parents[1] / "fixtures" / "usernets.py"
SOURCES = ("torch", "flopcounter", "ptflops", "aten")


def ref(factory: str) -> str:
    return f"{USERNETS}:{factory}"


def test_kind_of() -> None:
    assert kind_of("alexnet") == "name"
    assert kind_of("examples/alexnet.toml") == "spec" and kind_of("n.JSON") == "spec"
    assert kind_of("nets/my.py:build") == "module" and kind_of("pkg.mod:build") == "module"


def test_modelled_layers_become_descriptors() -> None:
    rows = count(resolve(ref("tiny"), (3, 16, 16))).rows
    assert [(r.name, r.type) for r in rows] == [
        ("features.0", "Conv2d"), ("features.1", "BatchNorm2d"), ("features.2", "ReLU"),
        ("features.3", "MaxPool2d"), ("flatten", "Flatten"), ("fc", "Linear")]
    conv, fc = rows[0], rows[-1]
    assert conv.params == 3 * 3 * 3 * 8 + 8 and conv.macs == 16 * 16 * 27 * 8  # 224; 55,296
    assert conv.flops_backward == 2 * conv.macs  # first layer: grad-weight only
    assert fc.input_shape == (8 * 8 * 8,) and fc.macs == 512 * 10


def test_functional_calls_become_rows_of_their_module() -> None:
    rows = {r.name: r for r in count(resolve(ref("odd"), (3, 8, 8))).rows}
    assert rows["act"].type == "GELU" and rows["act"].macs == 0  # modelled: elementwise only
    # the root's own calls: torch.flatten, `@ self.proj` (a weight), `* self.scale`
    assert (rows["flatten"].type, rows["matmul"].type, rows["mul"].type) == (
        "Reshape", "MatMul", "LayerScale")
    assert rows["matmul"].weights == 4 * 8 * 8 * 10 and rows["mul"].weights == 1  # 2,560; 1
    assert rows["matmul"].macs == 256 * 10  # one MAC per weight for the sample's vector
    assert rows["matmul"].flops_backward == 2 * (2 * 2560)  # grads w.r.t. both x and proj
    assert rows["block.add"].type == "Add" and rows["block.add"].macs == 0
    # the ReLU module is called twice: two rows, parameters on the first call only
    assert rows["block.relu#2"].type == "ReLU" and rows["block.relu#2"].params == 0


def test_user_inception_equals_the_zoo_googlenet_aux() -> None:
    """Functional relu/cat/pooling, a tuple output and aux heads, written as torch users do."""
    shape = (3, 96, 96)
    user = resolve(ref("inception_aux"), shape)
    zoo_net = load_model("googlenet-aux")
    for convention in ("macs", "aten"):
        a, b = count(user, shape, 2, convention), count(zoo_net, shape, 2, convention)
        assert a.total("params") == b.total("params") == 13_004_888
        assert a.total("macs") == b.total("macs")
        assert a.total("flops_backward") == b.total("flops_backward")
    aux = [p for p in user.leaves() if p.name.startswith("aux")]
    assert aux and all(p.training_only for p in aux)


@pytest.mark.parametrize("factory, shape", [("tiny", (3, 16, 16)), ("odd", (3, 8, 8))])
def test_verify_user_modules(factory: str, shape: tuple[int, int, int]) -> None:
    net = resolve(ref(factory), shape)
    v = verify(net, shape, 3, measure_all(net, shape, 3, SOURCES))
    assert v.failed == ()
    assert {c.status for c in v.checks if c.status == "unmodelled"} == set()
    if factory == "odd":
        act = next(c for c in v.checks if (c.layer, c.source) == ("act", "ptflops"))
        # GELU is modelled: ptflops' relu hook on its line, the output elements, batch 3
        assert act.status == "match" and act.analytic == 3 * 4 * 8 * 8
        total = next(c for c in v.checks if (c.layer, c.source) == (TOTAL, "ptflops"))
        # ptflops' patched functionals count their inputs once more: F.gelu once and the
        # block's ReLU module (F.relu) twice, 4*8*8 elements each, batch 3: predicted
        assert total.status == "explained"
        assert total.measured - total.analytic == 3 * (1 + 2) * 4 * 8 * 8


def test_recorded_shape_is_fixed() -> None:
    net = resolve(ref("tiny"), (3, 16, 16))
    with pytest.raises(UsageError, match="recorded with input 3x16x16"):
        count(net, (3, 32, 32))


@pytest.mark.parametrize("target, shape, message", [
    ("raises", (3, 8, 8), "the factory raised RuntimeError: no weights here"),
    ("not_a_module", (3, 8, 8), "the factory returned int, not a torch.nn.Module"),
    ("bad_forward", (1, 8, 8), "failed: RuntimeError: a and b must have same reduction dim"),
    ("nope", (3, 8, 8), "has no callable 'nope'; callables defined there: AuxHead, Block"),
])
def test_errors_in_the_users_file(target: str, shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(ref(target), shape)


def test_import_errors() -> None:
    broken = Path(__file__).parents[1] / "fixtures" / "broken_import.py"
    with pytest.raises(UsageError, match="ModuleNotFoundError: No module named 'no_such_pack"):
        resolve(f"{broken}:net", (1, 2, 2))
    with pytest.raises(UsageError, match="does not exist"):
        resolve("no/such/file.py:net", (1, 2, 2))
    with pytest.raises(UsageError, match="importing no_such_pkg_x.mod failed"):
        resolve("no_such_pkg_x.mod:net", (1, 2, 2))
    with pytest.raises(UsageError, match="--input C,H,W is required"):
        resolve(ref("tiny"))


def test_plain_torch_lenet_counts_like_the_zoo_lenet5() -> None:
    user, named = count(resolve(ref("lenet_torch"), (1, 32, 32))), count(load_model("lenet5"))
    assert [r.type for r in user.rows] == [r.type for r in named.rows]
    for key in ("params", "macs", "flops_backward"):
        assert [getattr(r, key) for r in user.rows] == [getattr(r, key) for r in named.rows]


def test_every_modelled_kind_maps_and_the_rest_is_unsupported() -> None:
    rows = count(resolve(ref("mixed_layers"), (3, 8, 8))).rows
    assert [r.type for r in rows] == [
        "Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d", "AdaptiveAvgPool2d", "Flatten",
        "Dropout", "Linear", "Softmax", "unsupported:AdaptiveAvgPool1d"]
    assert rows[0].output_shape == (8, 8, 8)  # padding="same" -> 1 for a 3x3 kernel
    assert rows[-1].output_shape == (5,)
