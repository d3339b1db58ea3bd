"""The benchmark suite's predictions of each peer's count, checked against the real peers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import peers  # noqa: E402

from alexprof.nets.zoo import index as zoo  # noqa: E402


@pytest.fixture
def keep_threads():
    threads = torch.get_num_threads()  # the snippets pin torch to one thread; give it back
    yield
    torch.set_num_threads(threads)


PEERS = [t for t in peers.TOOLS if t.name != "alexprof"]  # alexprof vs itself proves nothing


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fvcore traces with torch.jit
@pytest.mark.parametrize("tool", PEERS, ids=[t.name for t in PEERS])
def test_prediction_matches_the_tool(tool, keep_threads):
    pytest.importorskip(tool.needs)
    # torchvision's layout has the adaptive pool (fvcore's quirk); batch 2 shows ptflops' batch quirk
    name, shape, batch = "alexnet-torchvision", (3, 64, 64), 2
    namespace: dict[str, object] = {}
    exec(peers.source(tool, name, shape, batch), namespace)  # noqa: S102
    reported = int(eval(tool.call, namespace))  # noqa: S307
    prediction = tool.predict(zoo.get(name), shape, batch)
    assert peers.judge(reported, prediction) in ("✓", "≈")
    assert reported == prediction.plain + (prediction.quirk if reported != prediction.plain else 0)


def test_quirks_are_needed_where_named():
    net, shape = zoo.get("alexnet-torchvision"), (3, 64, 64)
    # fvcore: adaptive pool input 256 x 1 x 1 per sample at 64 pixels (pool5 output 1x1), batch 2
    assert peers._fvcore(net, shape, 2).quirk == 2 * 256
    assert peers.judge(7, peers.Prediction(5, 2, "r")) == "≈"
    assert peers.judge(6, peers.Prediction(5, 2, "r")) == "✗"
