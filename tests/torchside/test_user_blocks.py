"""User modules built from the papers' blocks (tests/fixtures/cnn_blocks.py), held to torch.

For each fixture, through the CLI (in-process) and the Python API:

* ``--verify`` exits 0 and no row is ``unsupported``;
* parameters per module equal ``numel`` (measured here, from the module);
* forward FLOPs equal FlopCounterMode around ``model(x)`` on meta, and the training
  step (forward + backward) equals FlopCounterMode around forward, loss, backward,
  less its grouped-conv quirk (measured here, on meta);
* ptflops' total (run here, on the CPU) is what ``--verify`` measured, and alexprof's
  ``--convention ptflops`` total plus only explained quirks;
* loading does not change what the forward does: each module row has the shapes
  torch's own hooks see, list inputs, reused tensors, modules called twice, train-only
  branches and BatchNorm after a global pool all load;
* bad input is one line on stderr and exit code 2.

Every expected number here is measured by torch or ptflops in the test, or derived by
hand with the arithmetic in a comment; none is taken from alexprof's output.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from alexprof.cli import main  # noqa: E402

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cnn_blocks.py"
BATCH = 2  # every check runs a batch of 2: BatchNorm in train mode refuses one value


def _load_fixture() -> Any:
    spec = importlib.util.spec_from_file_location("cnn_blocks_fixture", FIXTURE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cb = _load_fixture()
NAMES = list(cb.INPUTS)


def ref(name: str) -> str:
    return f"{FIXTURE}:{name}"


def shape_arg(name: str) -> str:
    return ",".join(map(str, cb.INPUTS[name]))


def factory(name: str) -> Callable[[], nn.Module]:
    return getattr(cb, name)


# --- running alexprof (in-process, cached: each distinct command runs once) --------------


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> dict[str, Any]:
        assert self.out.strip(), f"no JSON on stdout (exit {self.code}): {self.err.strip()}"
        return json.loads(self.out)


@cache
def alexprof(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Run(code, out.getvalue(), err.getvalue())


def flops_json(name: str, convention: str = "macs", verify: bool = False,
               batch: int = BATCH) -> Run:
    args = ["flops", "--model", ref(name), "-i", shape_arg(name), "--batch", str(batch),
            "--convention", convention, "--format", "json"]
    return alexprof(*args, *(["--verify"] if verify else []))


def verified(name: str) -> dict[str, Any]:
    """The ``--verify`` JSON (convention flopcounter); exit 0 asserted elsewhere."""
    r = flops_json(name, "flopcounter", verify=True)
    assert r.code in (0, 1), r.err
    return r.json()


def layers(name: str, convention: str = "macs") -> list[dict[str, Any]]:
    r = flops_json(name, convention)
    assert r.code == 0, r.err
    return r.json()["layers"]


def totals(name: str, convention: str) -> dict[str, int]:
    r = flops_json(name, convention)
    assert r.code == 0, r.err
    return r.json()["totals"]


# --- what torch and ptflops measure, here ------------------------------------------------


def meta_module(name: str) -> nn.Module:
    with torch.device("meta"):
        return factory(name)()


def meta_input(name: str, batch: int = BATCH) -> Any:
    return torch.empty((batch, *cb.INPUTS[name]), device="meta")


def outputs(out: Any) -> list[Any]:
    return [t for t in (out if isinstance(out, (tuple, list)) else (out,)) if t is not None]


@cache
def torch_forward_flops(name: str) -> int:
    """FlopCounterMode around ``model(x)`` alone, train mode (as a training step runs it).

    On meta, ``F.scaled_dot_product_attention`` decomposes into ``bmm``s that
    FlopCounterMode counts (on the CPU its fused kernel is counted as 0), so the fused
    and manual MobileViT fixtures measure the same here: the meta figure is the one
    alexprof must equal."""
    model = meta_module(name).train()
    with FlopCounterMode(display=False) as counter:
        model(meta_input(name))
    return counter.get_total_flops()


@cache
def torch_step_flops(name: str) -> tuple[int, int]:
    """FlopCounterMode around forward, loss (a sum of every output: no counted FLOPs) and
    backward; and the part of it that is FlopCounterMode's grouped-conv quirk.

    The quirk (torch 2.13): a grouped conv's weight gradient is counted with all C_in
    input channels instead of C_in/groups, adding 2*MACs*(groups-1) per grouped conv call,
    where MACs = output elements * C_in/groups * k_h * k_w (whole batch).  Measured in
    tests/torchside alone: Conv2d(32, 32, 3, groups=8) on 2x32x8x8 gives backward
    2,654,208 = 4*MACs + 2*MACs*7 with MACs = 2*32*8*8*4*9 = 147,456.
    """
    model = meta_module(name).train()
    quirk = 0

    def grouped(mod: nn.Module, args: Any, out: Any) -> None:
        nonlocal quirk
        if mod.groups > 1 and mod.weight.requires_grad:
            kh, kw = mod.kernel_size
            macs = out.numel() * (mod.in_channels // mod.groups) * kh * kw
            quirk += 2 * macs * (mod.groups - 1)

    hooks = [m.register_forward_hook(grouped) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with FlopCounterMode(display=False) as counter:
            loss = sum(t.sum() for t in outputs(model(meta_input(name))))
            loss.backward()
    finally:
        for h in hooks:
            h.remove()
    return counter.get_total_flops(), quirk


@cache
def ptflops_total(name: str) -> int:
    """ptflops 0.7.5's returned total for one sample, pytorch backend, on the CPU."""
    import ptflops

    with contextlib.redirect_stdout(io.StringIO()):
        macs, _ = ptflops.get_model_complexity_info(
            factory(name)(), cb.INPUTS[name], as_strings=False, print_per_layer_stat=False,
            backend="pytorch")
    assert macs is not None, f"ptflops failed on {name}"
    return int(macs)


def observed_shapes(name: str) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """Per-sample (input, output) shapes of each leaf module call, as torch's hooks see
    them in a real train-mode forward on the CPU: ``name`` / ``name#n`` for the n-th call.
    Calls whose tensors do not have the batch as their first dim (MobileViT folds the
    batch into its token batch) are left out: their per-sample shape is a choice."""
    model = factory(name)().train()
    names = {m: n for n, m in model.named_modules()}
    calls: dict[str, int] = {}
    seen: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def hook(mod: nn.Module, args: Any, out: Any) -> None:
        n = names[mod]
        calls[n] = calls.get(n, 0) + 1
        row = n if calls[n] == 1 else f"{n}#{calls[n]}"
        ins = [a for a in args if isinstance(a, torch.Tensor)]
        if ins and isinstance(out, torch.Tensor) and ins[0].shape[0] == BATCH == out.shape[0]:
            seen[row] = (tuple(ins[0].shape[1:]), tuple(out.shape[1:]))

    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(hook) for m in leaves]
    try:
        model(torch.randn(BATCH, *cb.INPUTS[name]))
    finally:
        for h in hooks:
            h.remove()
    return seen


def owner(row: str, modules: set[str]) -> str:
    """The torch module a row belongs to: a module's row is named after it, a functional
    row after its module plus the op (``layer1.0.add``), a repeat call gets ``#n``."""
    row = re.sub(r"#\d+$", "", row)
    if row == "(root)":
        return ""
    parts = row.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in modules:
            return ".".join(parts[:i])
    return ""


# --- each fixture: verify, coverage, params, FLOPs, ptflops --------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_verify_exits_0(name: str) -> None:
    r = flops_json(name, "flopcounter", verify=True)
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["verification"]["passed"]
    bad = [c for c in doc["verification"]["checks"] if c["status"] not in ("match", "explained")]
    assert not bad, bad[:5]


@pytest.mark.parametrize("name", NAMES)
def test_no_unsupported_rows(name: str) -> None:
    odd = [(row["name"], row["type"]) for row in layers(name)
           if row["type"].lower().startswith("unsupported")]
    assert not odd, odd


@pytest.mark.parametrize("name", NAMES)
def test_params_per_module_equal_numel(name: str) -> None:
    model = meta_module(name)
    modules = dict(model.named_modules())
    own = {n: sum(p.numel() for p in m.parameters(recurse=False)) for n, m in modules.items()}
    rows = layers(name)
    got: dict[str, int] = {}
    for row in rows:
        key = owner(row["name"], set(modules))
        got[key] = got.get(key, 0) + row["params"]
    assert {n: c for n, c in got.items() if c} == {n: c for n, c in own.items() if c}
    assert sum(row["params"] for row in rows) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_forward_flops_equal_flopcountermode(name: str) -> None:
    assert totals(name, "flopcounter")["flops"] == torch_forward_flops(name)


@pytest.mark.parametrize("name", NAMES)
def test_training_step_flops_equal_flopcountermode(name: str) -> None:
    measured, quirk = torch_step_flops(name)
    t = totals(name, "flopcounter")
    # measured = alexprof's step + the grouped-conv quirk (0 where no conv is grouped;
    # resnext_block, mbv2/mbv3 (depthwise), shuffle_unit, convnext_* have some)
    assert t["flops"] + t["flops_backward"] + quirk == measured


@pytest.mark.parametrize("name", NAMES)
def test_verify_measures_flopcountermode_as_torch_does(name: str) -> None:
    checks = [c for c in verified(name)["verification"]["checks"]
              if c["layer"] == "(total)" and c["source"] == "flopcounter"]
    assert [c["measured"] for c in checks] == [torch_step_flops(name)[0]]


@pytest.mark.parametrize("name", NAMES)
def test_ptflops_total_is_alexprofs_plus_explained_quirks(name: str) -> None:
    checks = [c for c in verified(name)["verification"]["checks"]
              if c["layer"] == "(total)" and c["source"] == "ptflops"]
    assert len(checks) == 1, checks
    (check,) = checks
    assert check["measured"] == ptflops_total(name) * BATCH  # ptflops: one sample, eval mode
    assert check["analytic"] == totals(name, "ptflops")["macs"]
    assert check["status"] in ("match", "explained"), check


@pytest.mark.parametrize("name", NAMES)
def test_module_rows_have_the_shapes_torch_sees(name: str) -> None:
    """A module call is a row with torch's shapes, or, for a module whose type alexprof does
    not take as one layer (timm's LayerNorm2d: permute, F.layer_norm, permute), the rows of
    its calls, the first taking its input and the last giving its output."""
    rows = {row["name"]: row for row in layers(name)}
    seen = observed_shapes(name)
    for row_name, (ins, outs) in seen.items():
        if row_name not in rows:
            base = row_name.split("#")[0]
            inner = [r for n, r in rows.items() if r.get("module") == base]
            assert inner, f"no row for the module call {row_name}"
            if "#" not in row_name:
                first, last = inner[0], inner[-1]
                assert tuple(first["input_shape"]) == ins and tuple(last["output_shape"]) == outs
            continue
        row = rows[row_name]
        assert (tuple(row["input_shape"]), tuple(row["output_shape"])) == (ins, outs), row_name


# --- loading does not change the model ---------------------------------------------------


def test_dense_layers_take_the_list_of_all_previous_maps() -> None:
    rows = {row["name"]: row for row in layers("dense_block")}
    # stem 16 channels, growth 8: dense layer i sees 16 + 8*(i-1) channels at 16x16
    for i, c in ((1, 16), (2, 24), (3, 32)):
        assert rows[f"1.denselayer{i}.norm1"]["input_shape"] == [c, 16, 16]
        assert rows[f"1.denselayer{i}.conv2"]["output_shape"] == [8, 16, 16]
        assert any(n.startswith(f"1.denselayer{i}.cat") for n in rows), sorted(rows)
    assert rows["2.norm"]["input_shape"] == [40, 16, 16]  # 16 + 3*8
    assert rows["2.pool"]["output_shape"] == [20, 8, 8]


def test_a_module_called_twice_is_two_rows_parameters_on_the_first() -> None:
    rows = {row["name"]: row for row in layers("twice")}
    assert rows["conv"]["params"] == 16 * 16 * 9 + 16  # 2,320
    assert rows["conv#2"]["params"] == 0
    # per call: 16x16 outputs * 16*9 inputs * 16 channels = 589,824 MACs per sample
    assert rows["conv"]["macs"] == rows["conv#2"]["macs"] == 589_824 * BATCH
    assert {"relu", "relu#2", "relu#3"} <= set(rows)


@pytest.mark.parametrize("name, root, channels", [
    ("dla_tree", "root", 2 * 32 + 16),  # cat(x2, x1, bottom)
    ("dla_tree2", "tree2.root", 32 + 32 + 16 + 32),  # cat(x2, x1, bottom, outer x1)
])
def test_tensors_reused_across_branches_load(name: str, root: str, channels: int) -> None:
    rows = {row["name"]: row for row in layers(name)}
    assert rows[f"{root}.conv"]["input_shape"] == [channels, 8, 8]
    assert any(n.startswith(f"{root}.cat") for n in rows), sorted(rows)


def test_hrnet_fuse_sums_both_resolutions() -> None:
    rows = {row["name"]: row for row in layers("hrnet_fuse")}
    assert rows["stage.fuse_layers.0.1.2"]["output_shape"] == [16, 16, 16]  # upsampled 8x8
    assert rows["stage.fuse_layers.1.0.0"]["output_shape"] == [32, 8, 8]  # strided 3x3
    assert sum(n.startswith("stage.add") for n in rows) == 2  # one sum per resolution


def test_train_only_aux_head_and_batchnorm_after_a_global_pool() -> None:
    name = "inception_aux_net"
    rows = {row["name"]: row for row in layers(name)}
    # 17x17 -> avg pool 5/3 -> 5x5 -> 1x1 conv -> 5x5 conv -> 1x1: BN sees one value per map
    assert rows["AuxLogits.conv1.bn"]["input_shape"] == [32, 1, 1]
    aux = {n for n in rows if n.startswith("AuxLogits.")}
    assert sum(rows[n]["macs"] for n in aux) > 0  # a training step runs the aux head
    ptf = {row["name"]: row for row in layers(name, "ptflops")}
    assert sum(ptf[n]["macs"] for n in aux) == 0  # ptflops runs model.eval(): it does not
    # --batch 1 must not run the module at batch 1 in train mode (BatchNorm would refuse)
    one = flops_json(name, "flopcounter", verify=True, batch=1)
    assert one.code == 0, one.err
    two = totals(name, "flopcounter")
    assert {k: v * BATCH for k, v in one.json()["totals"].items() if k.startswith("flops")} == {
        k: v for k, v in two.items() if k.startswith("flops")}


def test_a_pool_inside_a_wrapper_with_its_own_repr() -> None:
    rows = {row["name"] for row in layers("pooled_head")}
    assert {"head.global_pool.pool", "head.global_pool.flatten", "head.fc"} <= rows
    assert flops_json("pooled_head", "flopcounter", verify=True).code == 0


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("target, shape, words", [
    ("two_inputs", "3,8,8", ("two_inputs", "argument")),  # forward(x, y): one input given
    ("needs_args", "3,8,8", ("needs_args", "argument")),  # factory(channels)
    ("tiny_resnet", "10", ("'10'", "input")),  # a rank Conv2d does not accept
])
@pytest.mark.parametrize("command", ["params", "flops"])
def test_bad_input_is_one_line_exit_2(cli, command: str, target: str, shape: str,
                                      words: tuple[str, ...]) -> None:
    r = cli(command, "--model", ref(target), "-i", shape)
    assert r.code == 2, (r.code, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert "Traceback" not in r.err and "internal error" not in r.err
    assert all(w in lines[0] for w in words), lines[0]


# --- the Python API on a live module -----------------------------------------------------


def test_count_takes_a_live_module_and_reports_what_the_cli_prints() -> None:
    import alexprof as ap

    model = cb.tiny_resnet()  # a live CPU module, as in a notebook
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = ap.count(model, input_shape=(3, 32, 32), batch=2)
    cli = flops_json("tiny_resnet").json()
    assert report.totals() == {k: cli["totals"][k] for k in report.totals()}
    assert [row.to_json() for row in report.rows] == cli["layers"]
    doc = report.to_json()
    assert {k: v for k, v in doc.items() if k != "model"} == {
        k: v for k, v in cli.items() if k != "model"}
    # the user's module is left as it was: same device, same mode, same values
    assert model.training
    after = model.state_dict()
    assert all(v.device.type == "cpu" and torch.equal(v, after[k]) for k, v in before.items())


def test_count_on_a_module_takes_a_convention() -> None:
    import alexprof as ap

    report = ap.count(cb.convnext_tiny(), input_shape=(3, 32, 32), batch=2,
                      convention="ptflops")
    assert report.totals() == {
        k: v for k, v in totals("convnext_tiny", "ptflops").items() if k in report.totals()}


def test_load_model_takes_a_module() -> None:
    import alexprof as ap

    net = ap.load_model(cb.tiny_resnet(), input_shape=(3, 32, 32))
    assert ap.count(net, batch=2).totals()["flops"] == totals("tiny_resnet", "macs")["flops"]
    assert ap.count(net, batch=2).totals()["params"] == sum(
        p.numel() for p in cb.tiny_resnet().parameters())  # 45,146 by numel
