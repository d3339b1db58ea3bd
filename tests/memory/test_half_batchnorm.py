"""BatchNorm2d in float16 and bfloat16 on CPU, against the real step, for every zoo
network with batch norm.

torch 2.13's CPU ``native_batch_norm`` keeps the batch mean and inverse std in the
input's dtype (the rule used to say float32, the accumulation dtype, which is what the
meta kernel and CUDA report): 2 x 2 bytes a channel instead of 2 x 4, so the old
prediction was 4 bytes a channel too high after forward and loss (vgg16-bn, 4,224
channels: 16,896 B; googlenet, 7,280 channels: 29,120 B).  Float16 convolutions are slow
on CPU, so the networks run on small inputs (their pooling adapts; the statistics are
per channel, whatever the size) at batch 1 (googlenet at 2: its last batch norm sees
1x1 maps, which training mode refuses for a single sample).
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from alexprof import nets as L  # noqa: E402
from alexprof.memory.predict import predict  # noqa: E402
from alexprof.nets.zoo import index as zoo  # noqa: E402
from tests.memory.opsnets import assert_exact  # noqa: E402

# name -> (input shape, batch); every zoo network with a BatchNorm2d
BN_NETS = {"googlenet": ((3, 32, 32), 2), "googlenet-aux": ((3, 64, 64), 1),
           "vgg16-bn": ((3, 32, 32), 1),
           # 1x1 maps before the global pool at 32x32: batch 2 for training-mode statistics
           **{n: ((3, 32, 32), 2) for n in ("resnet18", "resnet34", "resnet50", "resnet101",
                                             "mobilenet-v2", "densenet121")}}


def test_every_zoo_network_with_batch_norm_is_listed() -> None:
    with_bn = {n for n in zoo.names()
               if any(isinstance(p.layer, L.BatchNorm2d) for p in zoo.get(n).leaves())}
    assert with_bn == set(BN_NETS)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", list(BN_NETS))
def test_half_batch_norm_exact(name: str, dtype: str) -> None:
    shape, batch = BN_NETS[name]
    assert_exact(zoo.get(name), batch, "none", dtype, shape)


def test_half_statistics_are_two_bytes_a_channel_on_cpu() -> None:
    """vgg16-bn: 4,224 batch-norm channels; mean and inverse std, 2 bytes each in bfloat16
    on CPU (4,224 x 2 x 2 = 16,896 B), float32 on CUDA (4,224 x 2 x 4 = 33,792 B)."""
    net = zoo.get("vgg16-bn")
    for device, size in (("cpu", 2), ("cuda", 4)):
        kept = predict(net, batch=1, dtype="bfloat16", device=device).kept
        stats = [k for k in kept if k.tensor in ("batch_mean", "batch_invstd")]
        assert len(stats) == 2 * 13  # 13 batch norms
        assert sum(math.prod(k.shape) * size for k in stats) == 4224 * 2 * size
        assert {k.dtype for k in stats} == {"bfloat16" if device == "cpu" else "float32"}

