from __future__ import annotations

import pytest

from alexprof.counting.formulas import FORMULAS, cost_of, formula
from alexprof.errors import UsageError, choose
from alexprof.nets import Conv2d, Layer
from alexprof.registry import ByType


def test_a_type_registers_once() -> None:
    with pytest.raises(RuntimeError, match="a cost formula for Conv2d is already registered"):
        formula(Conv2d)(lambda d, i, o: None)
    assert FORMULAS.of(Conv2d("c", 1, 1, 1)) is not None  # the original is still in place


def test_unregistered_type_is_a_one_line_usage_error() -> None:
    class Odd(Layer):
        kind = "Odd"

    with pytest.raises(UsageError, match=r"no cost formula for layer 'x' of type Odd"):
        cost_of(Odd("x"), (1,), (1,))
    rules: ByType = ByType("memory rule")
    with pytest.raises(UsageError, match=r"no memory rule for layer 'net.x' of type Odd"):
        rules.of(Odd("x"), "net.x")


def test_choose_suggests_and_lists() -> None:
    table = {"alexnet": 1, "vgg16": 2}
    assert choose(table, "vgg16", "model") == 2
    with pytest.raises(UsageError) as e:
        choose(table, "alexnt", "model", " (or a spec file)")
    assert str(e.value) == ("unknown model 'alexnt' (did you mean 'alexnet'?); "
                            "valid: alexnet, vgg16 (or a spec file)")
