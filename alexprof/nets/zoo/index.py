"""The explicit index of the named networks: name -> factory, in `alexprof models` order.

Each family module lists its factories in ``NETS``; the index imports the families (they
never import it back).  A test checks that every key equals the name its factory builds.
"""

from __future__ import annotations

from collections.abc import Callable

from alexprof.errors import choose
from alexprof.nets.net import Net
from alexprof.nets.zoo import alexnet, classic, densenet, inception, mobilenet, resnet

FAMILIES = (alexnet, classic, inception, resnet, mobilenet, densenet)


def _index() -> dict[str, Callable[[], Net]]:
    index: dict[str, Callable[[], Net]] = {}
    for family in FAMILIES:
        for factory in family.NETS:
            name = factory.__name__.replace("_", "-")
            if name in index:
                raise RuntimeError(f"network {name!r} defined twice")
            index[name] = factory
    return index


NETS = _index()


def names() -> list[str]:
    return list(NETS)


def get(name: str) -> Net:
    """The network ``name`` names; ``_`` is taken for ``-`` (torchvision spells
    ``mobilenet_v2`` and ``vgg16_bn``)."""
    if name not in NETS and name.replace("_", "-") in NETS:
        name = name.replace("_", "-")
    return choose(NETS, name, "model")()
