"""The memory rules of the new kinds against a real CPU training step, to the byte.

Each network (:data:`tests.memory.opsnets.NETS`) puts the new kinds after a convolution;
``run_step`` measures the step under the profiler and every stage's bytes after it and
peak between ops must equal the prediction (as ``tests/torchside/test_tracer.py`` checks
for the zoo).  Until the torch builders of these kinds are registered in
``alexprof.torchside``, the test registers modules that mirror the descriptors.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from alexprof.memory.predict import predict  # noqa: E402
from alexprof.nets.zoo import index as zoo  # noqa: E402
from tests.memory.opsnets import NETS, assert_exact, install_builders  # noqa: E402


@pytest.fixture(autouse=True)
def _builders(monkeypatch: pytest.MonkeyPatch) -> None:
    install_builders(monkeypatch)


@pytest.mark.parametrize("net", NETS, ids=lambda n: n.name)
def test_new_kinds_exact_at_every_stage(net: zoo.Net) -> None:
    assert_exact(net, 2, "sgd-momentum")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_norms_in_half_precision_exact(dtype: str) -> None:
    """LayerNorm's and GroupNorm's statistics are in the input's dtype on CPU."""
    norms = next(n for n in NETS if n.name == "norms")
    assert_exact(norms, 2, "adam", dtype)


def test_new_kinds_predicted_kept_by_hand() -> None:
    """What forward leaves alive for the norms network at batch 2, float32, read by hand."""
    norms = next(n for n in NETS if n.name == "norms")
    kept = {(k.layer, k.tensor): k for k in predict(norms, batch=2, device="cpu").kept}
    assert kept["gn", "mean"].shape == (2, 2) and kept["gn", "mean"].bytes == 2 * 2 * 4
    assert kept["ln", "rstd"].shape == (2, 6, 6, 1)  # one per normalised row
    assert kept["sd_row", "mask"].shape == (2, 1, 1, 1)  # one per sample
    assert kept["sd_batch", "mask"].shape == (1, 1, 1, 1)
    assert ("sd0", "mask") not in kept  # p = 0: the identity
    assert ("contig", "output") in kept  # a permuted map's contiguous() copies (conv3 keeps it)
    assert ("to_hwc", "output") not in kept  # permute: a view
