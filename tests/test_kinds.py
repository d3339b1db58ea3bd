"""Every descriptor kind is registered everywhere it must be, once.

A kind is found by looking at the classes themselves (every public subclass of
``Layer`` in alexprof), so a new descriptor that misses the kinds table or any
registry fails here.  Exemptions are stated with their reason.
"""

from __future__ import annotations

import pytest

from alexprof import nets as L
from alexprof.counting.conventions import PTFLOPS
from alexprof.counting.formulas import FORMULAS
from alexprof.memory import predict  # noqa: F401  (its index registers every memory rule)
from alexprof.memory.step import RULES
from alexprof.nets.kinds import COMPOSITES, KINDS, LEAVES, RECORDED
from alexprof.nets.params import PARAMETER_SHAPES
from alexprof.torchside.bridge import BUILDERS, EXTRACTIONS

TWO_INPUTS = ("a two-input op, read from a user's forward only; the zoo merges branches "
              "with Parallel")
REGISTRIES = {
    "cost formula": FORMULAS, "memory rule": RULES, "torch builder": BUILDERS,
    "parameter shapes": PARAMETER_SHAPES, "torch extraction": EXTRACTIONS,
    "ptflops behaviour": PTFLOPS,
}
# (kind, registry) -> why the kind has no entry there
EXEMPT: dict[tuple[type, str], str] = {
    **{(c, "cost formula"): "counted through its leaves" for c in COMPOSITES},
    **{(c, "memory rule"): "replayed by the walk's consumer (memory.replay)" for c in COMPOSITES},
    **{(c, "parameter shapes"): "its leaves own the tensors" for c in COMPOSITES},
    **{(c, "torch extraction"): "a user's containers are walked, not mapped" for c in COMPOSITES},
    **{(c, "ptflops behaviour"): "ptflops counts its leaves" for c in COMPOSITES},
    (L.Unsupported, "memory rule"): ("memory.graph's fallback: an output that keeps nothing, "
                                     "named in the report"),
    (L.Unsupported, "torch builder"): "its torch module is the user's own",
    (L.Unsupported, "parameter shapes"): "it carries torch's measured numel instead",
    (L.Unsupported, "torch extraction"): "it is what extraction falls back to",
    **{(c, "torch builder"): TWO_INPUTS for c in RECORDED},
    **{(c, "torch extraction"): TWO_INPUTS for c in RECORDED},
    **{(c, "memory rule"): ("two-input ops appear only in recorded user modules: a rule over "
                            "several tensors in memory.graph.MULTI, or its fallback")
       for c in RECORDED},
}
NOT_IN_SPEC = {
    L.Unsupported: "only extraction from a user's module creates it",
    **{c: TWO_INPUTS for c in RECORDED},
}



def _descriptor_classes() -> set[type]:
    found, todo = set(), [L.Layer]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("alexprof.") and not sub.__name__.startswith("_"):
                found.add(sub)
    return found


def test_the_kinds_table_lists_every_descriptor() -> None:
    classes = _descriptor_classes()
    assert classes == set(LEAVES) | set(COMPOSITES) | set(NOT_IN_SPEC)
    assert len(KINDS) == len(LEAVES) + len(COMPOSITES)  # no two kinds share a spec name
    assert all(KINDS[cls.kind] is cls for cls in LEAVES + COMPOSITES)


@pytest.mark.parametrize("what", list(REGISTRIES))
@pytest.mark.parametrize("kind", sorted(_descriptor_classes(), key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_every_kind_has_an_entry_or_a_stated_exemption(kind: type, what: str) -> None:
    registered = kind in REGISTRIES[what]
    exempt = (kind, what) in EXEMPT
    assert registered != exempt, (
        f"{kind.__name__}: {'registered although exempt' if registered else 'no ' + what}")


def test_registries_hold_only_descriptor_kinds() -> None:
    classes = _descriptor_classes()
    for what, registry in REGISTRIES.items():
        assert {kind for kind, _ in registry.items()} <= classes, what


def test_extraction_reads_back_what_the_builder_built() -> None:
    """descriptor -> nn.Module -> descriptor is the identity, one sample per leaf kind."""
    samples = [
        L.Conv2d("c", 4, 8, 3, 2, 1, 1, 2, False), L.Linear("l", 6, 3, False), L.ReLU("r", True),
        L.Tanh("t"), L.MaxPool2d("m", 3, 2, 1, True, 1), L.AvgPool2d("a", 3, 2, 1, True, False),
        L.AdaptiveAvgPool2d("g", (2, 3)), L.LocalResponseNorm("n", 3, 1e-3, 0.5, 2.0),
        L.Dropout("d", 0.3), L.Softmax("s", 1), L.BatchNorm2d("b", 4, 1e-3, False),
        L.Flatten("f"), L.ReLU6("r6", True), L.Hardtanh("ht", -2.0, 3.0, True),
        L.Hardswish("hs", True), L.Hardsigmoid("hg", True), L.SiLU("si", True), L.Sigmoid("sg"),
        L.GELU("ge", "tanh"), L.LeakyReLU("lr", 0.2, True), L.ELU("el", 0.5, True),
        L.Identity("id"), L.StochasticDepth("sd", 0.25, "batch"), L.LayerScale("ls", (8, 1, 1)),
        L.LayerNorm("ln", (4, 5), 1e-6, True, False), L.GroupNorm("gn", 2, 8, 1e-3, False),
        L.AdaptiveMaxPool2d("am", (3, 2)), L.Mean("me", (0, 2), True), L.Reshape("rs", (2, 6)),
        L.Permute("pe", (1, 2, 0)), L.Contiguous("co"), L.ChannelShuffle("cs", 3),
        L.Upsample("up", None, (2.0, 1.5), "bilinear", False), L.Upsample("un", (7, 9)),
    ]
    assert {type(d) for d in samples} == set(LEAVES)
    for d in samples:
        module = BUILDERS.of(d)(d)
        extraction = EXTRACTIONS.of(d)
        assert type(module) is extraction.torch_type
        assert extraction.read(module, d.name) == d


def test_the_two_input_kinds_have_rules_over_several_tensors() -> None:
    from alexprof.memory.graph import MULTI

    assert {L.Add, L.Mul, L.Cat, L.View} <= {k for k, _ in MULTI.items()}
    assert {k for k, _ in MULTI.items()} <= set(RECORDED)
