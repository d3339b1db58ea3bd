"""The tools the suite compares, each as the Python a user would write.

A tool is two snippets: ``setup`` builds what the call needs (the network as a
torch module and an input batch, or alexprof's descriptors) and ``call`` is
the one expression that returns the count.  The same text runs in-process (per
call timing) and in a fresh ``python -c`` (whole-process timing), so the two
columns time exactly the same work.

Every tool also has a *prediction*: the number alexprof computes, without a
forward pass, for what that tool reports, plus any peer quirk, named and
quantified, that makes the tool's number differ from its own convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from alexprof.torchside import quirks
from alexprof.counting.analysis import count
from alexprof.nets import AdaptiveAvgPool2d, Shape
from alexprof.nets.net import Net

TORCH_CPU = """
import torch
torch.set_num_threads(THREADS)
from alexprof.torchside.bridge import build
from alexprof.nets.zoo.index import get
torch.manual_seed(0)
module = build(get(NAME).body, "cpu", init=True).eval()
x = torch.randn((BATCH, *SHAPE))
"""
TORCH_META = """
import torch
torch.set_num_threads(THREADS)
from alexprof.torchside.bridge import build
from alexprof.nets.zoo.index import get
module = build(get(NAME).body, "meta").eval()
x = torch.empty((BATCH, *SHAPE), device="meta")
"""
FLOPCOUNTER = """
from torch.utils.flop_counter import FlopCounterMode
def run():
    with FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops()
"""

PTFLOPS_BATCH = (
    "ptflops 0.7.5 divides its module-hook counts by the batch but not what its patched "
    "torch.nn.functional calls add (ReLU, pooling counted a second time), so its total per "
    "sample grows by (batch - 1) x those elements"
)
FVCORE_ADAPTIVE = (
    "fvcore 0.1.5 counts aten::adaptive_avg_pool2d as one flop per input element "
    "(elementwise_flop_counter(1, 0)); alexprof's 'macs' convention counts no pooling"
)


@dataclass(frozen=True)
class Prediction:
    plain: int  # under the tool's convention
    quirk: int = 0  # what a named peer quirk adds on top
    reason: str = ""


@dataclass(frozen=True)
class Tool:
    name: str
    reports: str  # what its number counts
    setup: str
    call: str
    predict: Callable[[Net, Shape, int], Prediction]
    needs: str = "torch"  # the module that must import for the tool to run


def _ptflops(net: Net, shape: Shape, batch: int) -> Prediction:
    # one sample under the ptflops convention, plus the functional calls' double count, which
    # ptflops 0.7.5 adds once per sample in the batch (quirks.PTFLOPS_DOUBLE, PTFLOPS_BATCH)
    extra = sum(quirks.ptflops_functional_extra(p) for p in net.leaves(shape))
    return Prediction(count(net, shape, 1, "ptflops").total("macs"), batch * extra,
                      f"{quirks.PTFLOPS_DOUBLE}; {PTFLOPS_BATCH}")


def _fvcore(net: Net, shape: Shape, batch: int) -> Prediction:
    pooled = sum(math.prod(p.in_shape) for p in net.leaves(shape)
                 if isinstance(p.layer, AdaptiveAvgPool2d))
    return Prediction(count(net, shape, batch, "macs").total("macs"), batch * pooled, FVCORE_ADAPTIVE)


TOOLS: tuple[Tool, ...] = (
    Tool("alexprof", "MACs, batch", "from alexprof import count, load_model\nnet = load_model(NAME)\n",
         "count(net, SHAPE, BATCH).total('macs')",
         lambda n, s, b: Prediction(count(n, s, b, "macs").total("macs")), needs="alexprof"),
    Tool("ptflops", "MACs per sample", TORCH_CPU + "import ptflops\n",
         "ptflops.get_model_complexity_info(module, SHAPE, input_constructor=lambda _res: x, "
         "as_strings=False, print_per_layer_stat=False, backend='pytorch')[0]",
         _ptflops, needs="ptflops"),
    Tool("FlopCounterMode", "FLOPs, batch", TORCH_CPU + FLOPCOUNTER, "run()",
         lambda n, s, b: Prediction(count(n, s, b, "flopcounter").total("flops"))),
    Tool("FlopCounterMode (meta)", "FLOPs, batch", TORCH_META + FLOPCOUNTER, "run()",
         lambda n, s, b: Prediction(count(n, s, b, "flopcounter").total("flops"))),
    Tool("fvcore", "MACs, batch", TORCH_CPU + """
import logging
from fvcore.nn import FlopCountAnalysis
logging.getLogger("fvcore").setLevel(logging.ERROR)
def run():
    analysis = FlopCountAnalysis(module, x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return analysis.total()
""", "run()", _fvcore, needs="fvcore"),
    Tool("torchinfo", "mult-adds, batch", TORCH_CPU + "import torchinfo\n",
         "torchinfo.summary(module, input_data=x, verbose=0).total_mult_adds",
         lambda n, s, b: Prediction(count(n, s, b, "aten").total("macs")), needs="torchinfo"),
)


def source(tool: Tool, name: str, shape: Shape, batch: int, threads: int = 1) -> str:
    """The tool's setup for one network, input and batch, as a standalone script."""
    return (f"NAME = {name!r}\nSHAPE = {tuple(shape)!r}\nBATCH = {batch}\nTHREADS = {threads}\n"
            + tool.setup)


def judge(reported: int, p: Prediction) -> str:
    """'✓' equal to the plain prediction, '≈' equal once the named quirk is added, '✗' neither."""
    if reported == p.plain:
        return "✓"
    if p.quirk and reported == p.plain + p.quirk:
        return "≈"
    return "✗"
