"""memtrace on user modules: the data-flow replay (alexprof.memory.graph) against a real
CPU training step of the same module, measured by the profiler inside each test.

Every stage's bytes after it and its peak between two ops must equal the prediction to
the byte.  The fixtures are the papers' blocks of ``tests/fixtures/cnn_blocks.py``.
Batch 1 is measured where BatchNorm still sees more than one value per channel (every
block here; ``inception_aux_net`` pools its auxiliary head to 1x1 and needs 2).
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from alexprof.cli import main  # noqa: E402
from alexprof.memory.predict import predict  # noqa: E402
from alexprof.nets.net import Net  # noqa: E402
from alexprof.report.memreport import diff_stages  # noqa: E402
from alexprof.report.status import StageStatus  # noqa: E402
from alexprof.torchside.tracer import run_step  # noqa: E402
from alexprof.torchside.usermodule import load_module  # noqa: E402

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cnn_blocks.py"


def _load_fixture() -> Any:
    spec = importlib.util.spec_from_file_location("cnn_blocks_memfixture", FIXTURE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cb = _load_fixture()

# exact at batch 1 and 2, with sgd and adam (the fast set runs by default)
FAST = ["basic_identity", "bottleneck_projection", "tiny_resnet", "dense_block", "mbv2_block",
        "dla_tree2"]  # fmt: skip
EXACT = [*FAST, "basic_projection", "bottleneck_identity", "resnext_block", "mbv3_block",
                "dla_tree", "hrnet_fuse", "pooled_head", "twice"]  # fmt: skip


@cache
def net(name: str) -> Net:
    return load_module(name, getattr(cb, name), cb.INPUTS[name])


def _check(name: str, batch: int, optimizer: str) -> None:
    shape = cb.INPUTS[name]
    pred = predict(net(name), shape, batch, optimizer=optimizer, device="cpu")
    trace = run_step(net(name), shape, batch, optimizer=optimizer, device="cpu")
    measured = [(s.stage, s.allocated, s.peak_ops) for s in trace.stages]
    predicted = [(s.stage, s.allocated, s.peak) for s in pred.stages]
    assert measured == predicted
    assert pred.unmodelled == ()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("name", FAST)
def test_fast_fixtures_are_exact(name: str, batch: int, optimizer: str) -> None:
    _check(name, batch, optimizer)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "sgd-momentum", "none"])
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("name", EXACT)
def test_every_exact_fixture(name: str, batch: int, optimizer: str) -> None:
    _check(name, batch, optimizer)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_inception_aux_at_batch_2(optimizer: str) -> None:
    _check("inception_aux_net", 2, optimizer)


def test_the_recording_does_not_depend_on_the_batch() -> None:
    """The prediction is arithmetic on the recorded rows: batch 65,536 costs what batch 1
    costs.  What forward keeps is affine in the batch (activations per sample, plus the
    batch norms' per-channel statistics): f(65536) = f(1) + 65535 * (f(2) - f(1))."""
    shape = cb.INPUTS["tiny_resnet"]
    one, two, huge = (predict(net("tiny_resnet"), shape, b, device="cpu") for b in (1, 2, 65536))
    assert huge.stage("model").delta == one.stage("model").delta
    f1, f2 = one.stage("forward").delta, two.stage("forward").delta
    assert huge.stage("forward").delta == f1 + 65535 * (f2 - f1)


def test_a_row_without_a_rule_is_named_and_its_bytes_measured() -> None:
    """mobilevit_block's attention (``qkv.unbind(0)``: one node, three outputs, and
    ``F.scaled_dot_product_attention``) has no memory rule: the prediction names the
    rows, and the stages they leave inexact say by how many bytes."""
    shape = cb.INPUTS["mobilevit_block"]
    pred = predict(net("mobilevit_block"), shape, 2, optimizer="sgd", device="cpu")
    assert pred.unmodelled == ("transformer.0.attn.unbind",
                               "transformer.0.attn.scaled_dot_product_attention")  # fmt: skip
    trace = run_step(net("mobilevit_block"), shape, 2, optimizer="sgd", device="cpu")
    rows = diff_stages(pred, trace)
    assert not any(r.status is StageStatus.MISMATCH for r in rows)
    forward = next(r for r in rows if r.stage == "forward")
    measured = next(s for s in trace.stages if s.stage == "forward")
    assert forward.status is StageStatus.EXPLAINED
    assert forward.reason.startswith("exact except for 2 unmodelled row(s)")
    assert f"{measured.allocated - pred.stage('forward').allocated:+,} B" in forward.reason


def test_a_chunk_is_named_not_silently_wrong() -> None:
    """shuffle_unit's ``x.chunk(2, dim=1)`` makes two outputs of one autograd node, which
    the engine does not model: the row is named (its backward differs from torch's)."""
    pred = predict(net("shuffle_unit"), cb.INPUTS["shuffle_unit"], 2, device="cpu")
    assert pred.unmodelled == ("1.chunk",)


def test_cli_memtrace_on_a_user_module(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["memtrace", f"{FIXTURE}:basic_identity", "-i", "32,16,16", "--device", "cpu",
                 "-b", "2", "--optimizer", "adam"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "7 of 7 stages equal to the prediction to the byte" in out


# -- what the rules over several tensors keep, against autograd --------------------------


class _Op(torch.nn.Module):
    def __init__(self, op: str) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 2, 1)
        self.other = torch.nn.Conv2d(2, 2, 1)
        self.op = op

    def forward(self, x: Any) -> Any:
        a, b = self.conv(x), self.other(x)
        if self.op == "add":
            return a + b
        if self.op == "add_":
            a += b
            return a
        if self.op == "mul":
            return a * b
        if self.op == "mul_number":
            return a * 2.0
        if self.op == "cat":
            return torch.cat((a, b), 1)
        return a.view(a.shape[0], -1)


OPS = ["add", "add_", "mul", "mul_number", "cat", "view"]


def _torch_saved(op: str) -> list[int]:
    """Element counts of what autograd saves for the op itself (the convs' saves aside)."""
    torch.manual_seed(0)
    m = _Op(op)
    x = torch.rand(2, 2, 3, 3)
    a, b = m.conv(x), m.other(x)
    saved: list[int] = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t,
                                                  lambda t: t):  # fmt: skip
        if op == "add":
            _ = a + b
        elif op == "add_":
            a += b
        elif op == "mul":
            _ = a * b
        elif op == "mul_number":
            _ = a * 2.0
        elif op == "cat":
            _ = torch.cat((a, b), 1)
        else:
            _ = a.view(2, -1)
    return saved


@pytest.mark.parametrize("op", OPS)
def test_rules_over_several_tensors_keep_what_autograd_saves(op: str) -> None:
    from alexprof.memory.engine import Tape, Var
    from alexprof.memory.graph import build, run
    from alexprof.memory.step import Step

    loaded = load_module(op, lambda: _Op(op), (2, 3, 3))
    tape = Tape("cpu", "float32")
    step = Step(tape, 2)
    params = build(step, loaded.graph)  # type: ignore[arg-type]
    x = Var(tape.alloc("input", "x", "inputs", (2, 2, 3, 3)))  # type: ignore[arg-type]
    run(step, loaded.leaves(), loaded.graph, x, params)  # type: ignore[arg-type]
    mine = sorted(  # every storage a node of the op keeps (the convolutions' aside)
        b.elements for b in tape.live.values() for h in b.holders
        if b.holders[h] and hasattr(h, "node") and "Convolution" not in h.node
    )  # fmt: skip
    assert mine == sorted(_torch_saved(op))


def test_the_api_takes_a_live_module() -> None:
    """``alexprof.predict`` and ``alexprof.fit`` on an ``nn.Module``: the same prediction as
    the recorded module, and the batch fit names fits while the next one does not."""
    import alexprof

    shape = cb.INPUTS["tiny_resnet"]
    live = alexprof.predict(cb.tiny_resnet(), input_shape=shape, batch=2, device="cpu",
                            optimizer="adam")  # fmt: skip
    recorded = predict(net("tiny_resnet"), shape, 2, optimizer="adam", device="cpu")
    assert live.stages == recorded.stages
    found = alexprof.fit(cb.tiny_resnet(), memory="64MiB", input_shape=shape, device="cpu")
    assert found.batch >= 1 and found.prediction is not None and found.next_peak is not None
    assert found.prediction.peak <= 64 * 2**20 < found.next_peak
    assert found.prediction.peak == predict(net("tiny_resnet"), shape, found.batch,
                                            device="cpu").peak  # fmt: skip
