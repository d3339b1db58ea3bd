"""The memory vocabularies: categories, holders, stages, and the one refusal.  No torch."""

from __future__ import annotations

from collections import Counter

import pytest

from alexprof.errors import UsageError
from alexprof.memory.engine import Tape
from alexprof.memory.predict import predict
from alexprof.memory.stages import Stage, check_modelled
from alexprof.memory.vocab import Category, Holder, Saved, holder_key
from alexprof.nets.zoo import index as zoo


def test_categories_are_the_breakdown_keys_in_order() -> None:
    p = predict(zoo.get("googlenet-aux"), batch=2, device="cpu")
    assert list(p.breakdown) == list(Category.parts())
    assert [c.value for c in Category.parts()] == [
        "inputs", "parameters", "buffers", "activations", "output", "loss", "gradients",
        "optimizer_state"]  # the JSON keys: one spelling each
    assert Category.TEMPORARY not in Category.parts() and not Category.TEMPORARY.description
    assert all(c.description for c in Category.parts())
    assert Category.OPTIMIZER_STATE.label == "optimizer state"
    assert Category.INPUTS.label == "inputs"


def test_every_buffer_carries_members() -> None:
    p = predict(zoo.get("alexnet-2012"), batch=2, device="cuda", optimizer="adam")
    assert {type(e.buffer.category) for e in p.events} == {Category}
    assert {type(e.stage) for e in p.events} == {Stage}
    assert [s.stage for s in p.stages] == list(Stage)
    assert [s.value for s in Stage] == ["input", "model", "forward", "loss", "backward", "step",
                                        "zero_grad"]


def test_holders_and_saved() -> None:
    assert holder_key("py") is Holder.PY
    assert holder_key(Saved("conv1:ConvolutionBackward0")) == Saved("conv1:ConvolutionBackward0")
    assert str(Saved("conv1:ConvolutionBackward0")) == "saved:conv1:ConvolutionBackward0"
    with pytest.raises(ValueError):
        holder_key("saved:conv1:ConvolutionBackward0")  # no prefix parsing: a Saved or nothing
    t = Tape("cpu", "float32")
    buf = t.alloc("conv1", "output", Category.ACTIVATIONS, (2, 3))
    t.hold(buf, Saved("relu1:ReluBackward0"))
    assert +buf.holders == Counter({Holder.PY: 1, Saved("relu1:ReluBackward0"): 1})
    t.drop(buf, Holder.PY)
    t.drop(buf, Saved("relu1:ReluBackward0"))
    assert not t.live and t.allocated == 0
    with pytest.raises(RuntimeError, match="is not held by 'saved:x:Y'"):
        t.drop(t.alloc("a", "b", Category.TEMPORARY, ()), Saved("x:Y"))


def test_kept_by_names_the_saving_node() -> None:
    p = predict(zoo.get("lenet5"), batch=2, device="cpu")
    kept = {(k.layer, k.tensor): k.kept_by for k in p.kept}
    assert kept[("tanh1", "output")] == ("tanh1 TanhBackward0: output, for 1 - tanh^2",
                                         "s2 AvgPool2DBackward0: input")
    assert kept[("output", "output")] == ("the training loop: out = model(x)",)  # the logits


def test_the_refusal_is_one_message() -> None:
    net = zoo.get("lenet5")
    assert check_modelled(net) is net
    from dataclasses import replace

    recorded = replace(net, name="mine", recorded=())
    message = ("model 'mine' is a user module recorded from torch; memtrace models networks "
               "written as descriptors (a zoo name or a --spec file)")
    with pytest.raises(UsageError) as e:
        check_modelled(recorded)
    assert str(e.value) == message
    with pytest.raises(UsageError) as e:
        predict(recorded)
    assert str(e.value) == message
