"""The one traversal: its events, the gradient question, row names.  No torch here."""

from __future__ import annotations

from alexprof import nets as L
from alexprof.memory.predict import predict
from alexprof.nets.net import Net


def _net() -> L.Sequential:
    return L.Sequential("net", (
        L.Conv2d("conv", 3, 4, 1),
        L.Parallel("mix", (L.Sequential("a", (L.ReLU("relu"),)), L.MaxPool2d("pool", 1)),
                   merge="add"),
        L.Side("aux", (L.Flatten("flat"), L.Linear("fc", 4 * 2 * 2, 2))),
        L.Flatten("flatten"),
    ))


def test_events_enter_leaf_exit_in_execution_order() -> None:
    events = [(type(e).__name__, e.path) for e in L.traverse(_net(), (3, 2, 2))]
    assert events == [
        ("Enter", ""), ("Placed", "conv"),
        ("Enter", "mix"), ("Enter", "mix.a"), ("Placed", "mix.a.relu"), ("Exit", "mix.a"),
        ("Placed", "mix.pool"), ("Exit", "mix"),
        ("Enter", "aux"), ("Placed", "aux.flat"), ("Placed", "aux.fc"), ("Exit", "aux"),
        ("Placed", "flatten"), ("Exit", ""),
    ]
    exits = [e for e in L.traverse(_net(), (3, 2, 2)) if isinstance(e, L.Exit)]
    # mix.a, mix (added), aux (hands on its input), the root (flattened: 4*2*2 = 16)
    assert [e.out_shape for e in exits] == [(4, 2, 2), (4, 2, 2), (4, 2, 2), (16,)]


def test_gradient_and_training_only_are_decided_in_the_walk() -> None:
    leaves = {p.path: p for p in L.walk(_net(), (3, 2, 2))}
    assert not leaves["conv"].input_needs_grad  # the network's input
    assert all(leaves[n].input_needs_grad for n in ("mix.a.relu", "mix.pool", "aux.fc", "flatten"))
    assert [n for n, p in leaves.items() if p.training_only] == ["aux.flat", "aux.fc"]


def test_a_side_branch_before_any_parameter_leaves_the_main_path_without_gradient() -> None:
    """The side's Linear does not feed the trunk: the conv after it gets no grad_input.
    The memory replay checks the walk's answer against the autograd graph it builds."""
    body = L.Sequential("n", (
        L.Sequential("stem", (L.ReLU("relu"),
                              L.Side("aux", (L.Flatten("f"), L.Linear("fc", 3 * 2 * 2, 2))))),
        L.Conv2d("conv", 3, 2, 1), L.Flatten("flatten"),
    ))
    leaves = {p.path: p for p in L.walk(body, (3, 2, 2))}
    assert leaves["stem.aux.fc"].input_needs_grad is False
    assert leaves["conv"].input_needs_grad is False
    assert leaves["flatten"].input_needs_grad is True
    net = Net("side-first", "", (3, 2, 2), body, 2)
    assert predict(net, batch=2, device="cpu").peak > 0  # the replay agrees (else: model error)


def test_a_repeat_call_is_an_integer_shown_in_one_place() -> None:
    assert L.row_name("block.relu") == "block.relu"
    assert L.row_name("block.relu", 2) == "block.relu#2"
    assert L.row_name("") == "(root)"  # a user module's root itself
    placed = L.Placed("block.relu", L.ReLU("relu"), (4,), (4,), True, call=2)
    assert (placed.path, placed.call, placed.name) == ("block.relu", 2, "block.relu#2")
