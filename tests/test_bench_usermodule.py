"""benchmarks/bench_usermodule.py's checks and tables on fake numbers, so the script cannot rot
(no subprocess, no timing; the real run is ``python benchmarks/bench_usermodule.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_usermodule as bench

# alexprof's ResNet-50 totals at batch 1, 224 pixels (and the BatchNorm rows torchinfo counts)
LAYERS = [{"type": "Conv2d", "params": 9408}, {"type": "BatchNorm2d", "params": 53120}]
OURS = {"macs": {"totals": {"macs": 4089184256, "params": 25557032}, "layers": LAYERS},
        "ptflops": {"totals": {"macs": 4121925096, "params": 25557032}, "layers": LAYERS},
        "flopcounter": {"totals": {"flops": 8178368512, "params": 25557032}, "layers": LAYERS},
        "aten": {"totals": {"macs": 4089185256, "params": 25557032}, "layers": LAYERS}}
GOT = {"ptflops": {"macs": 4121925096, "params": 25557032},
       "flopcounter": {"flops": 8178368512},
       "torchinfo": {"mult_adds": 4089238376, "params": 25557032},
       "fvcore": {"total": 4111512576, "by_operator": {
           "conv": 4087136256, "batch_norm": 22227968, "adaptive_avg_pool2d": 100352,
           "linear": 2048000}}}


def test_checks_and_tables(tmp_path):
    main = bench.contenders()
    assert [c.compared for c in main] == ["alexprof", "ptflops", "ptflops", "flopcounter",
                                          "flopcounter", "torchinfo", "fvcore", ""]
    assert bench.MODEL in main[0].command and "-b" not in main[0].command
    matched = {}
    for c in main:
        if c.compared in GOT:
            wrong, shown = bench.compare(c, GOT[c.compared], OURS.__getitem__)
            assert not wrong, wrong
            matched[c.name] = shown
    assert "batch_norm 22,227,968" in matched["fvcore FlopCountAnalysis, CPU"]
    assert "53,120" in matched["torchinfo summary, CPU"]
    wrong, _ = bench.compare(main[1], {"macs": 1, "params": 25557032}, OURS.__getitem__)
    assert "vs alexprof" in wrong

    times = {c.name: (1.0 + i, 0.9 + i) for i, c in enumerate(main)}
    text = bench.table(main, times, matched, 5, (0.1, 0.2), header=["# machine: fake"],
                       skipped=["# skipped fvcore: it failed (ImportError)"])
    assert "  mult-adds 4,089,238,376, params 25,557,032\n" in text
    assert text.endswith("# skipped fvcore: it failed (ImportError)\n")
    assert "fastest peer: ptflops, CPU, real weights" in text and "0.50x wall" in text
    assert "fvcore FlopCountAnalysis, CPU also counts batch_norm" in text

    flat = [*main[:2], *[c for s in bench.FLAT[1:]
                         for c in bench.contenders(s, bench.FLAT_PEERS[:1], floor=False)]]
    assert "-b" in flat[2].command and "3,448,448" in flat[4].command
    flat_times = {c.name: (2.0 * (i + 1), 1.0) for i, c in enumerate(flat)}
    flat_text = bench.flat_table(flat, flat_times, 3, (0.1, 0.2))
    rows = [line.split() for line in flat_text.splitlines() if not line.startswith("#")][1:]
    assert len(rows) == 2 and rows[0][-4:] == ["6.000", "3.00", "10.000", "5.00"]
    assert "fastest peer / alexprof: b1 224px 2.00x" in flat_text

    out = tmp_path / "bench.txt"
    bench.write_atomically(out, text + flat_text)
    assert out.read_text() == text + flat_text
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left
