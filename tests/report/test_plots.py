"""Charts: real files from matplotlib, and the one-line refusal without it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from alexprof.speed import devices as hardware
from alexprof.nets.zoo import index as zoo
from alexprof.counting.analysis import count
from alexprof.errors import UsageError
from alexprof.report.plots import binary, check_plot, report_chart, roofline_chart, stage_timeline
from alexprof.speed.roofline import roofline

PNG = b"\x89PNG\r\n\x1a\n"
needs_mpl = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                               reason="needs matplotlib (pip install 'alexprof[plot]')")


@needs_mpl
def test_params_and_flops_bars(tmp_path):
    report = count(zoo.get("alexnet"), batch=2)
    for kind in ("params", "flops"):
        path = tmp_path / f"{kind}.png"
        report_chart(report, kind, path)
        assert path.read_bytes().startswith(PNG) and path.stat().st_size > 10_000


@needs_mpl
def test_roofline_svg_names_every_placed_layer(tmp_path):
    result = roofline(zoo.get("alexnet"), hardware.get("gtx580"), batch=1)
    path = tmp_path / "roof.svg"
    roofline_chart(path, "alexnet", result.peak, hardware.get("gtx580").bandwidth,
                   result.to_json()["layers"])
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    # matplotlib writes text as glyph paths but keeps each string in a comment
    for name in ("conv1", "conv2", "relu1"):
        assert name in text


@needs_mpl
def test_stage_timeline_from_plain_lists(tmp_path):
    mib = 1 << 20
    path = tmp_path / "mem.png"
    stage_timeline(path, "demo", ["start", "input", "model", "forward"], [0, 4 * mib, 12 * mib, 14 * mib],
                   predicted=[0, 4 * mib, 12 * mib, 14 * mib], peak=15 * mib, capacity=16 * mib)
    assert path.read_bytes().startswith(PNG)


def test_binary_units():
    assert (binary(4 * 2**20), binary(3 * 2**30), binary(8192), binary(100)) == (
        "4 MiB", "3 GiB", "8 KiB", "100 B")


@needs_mpl
def test_check_plot_refuses_bad_targets(tmp_path):
    assert check_plot(None) is None
    with pytest.raises(UsageError, match="must end in .png or .svg"):
        check_plot(tmp_path / "chart.pdf")
    existing = tmp_path / "chart.png"
    existing.write_bytes(b"x")
    with pytest.raises(UsageError, match="exists; pass --force"):
        check_plot(existing)
    assert check_plot(existing, force=True) == existing
    with pytest.raises(UsageError, match="does not exist"):
        check_plot(tmp_path / "nope" / "chart.png")


def test_without_matplotlib_plot_is_one_line_and_exit_2(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None; from alexprof.cli import main; "
            f"sys.exit(main(['params', 'alexnet', '--plot', r'{tmp_path / 'p.png'}']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "alexprof: error: --plot needs matplotlib, which is not installed; pip install 'alexprof[plot]'"]
    assert proc.stdout == ""  # refused before any work
    assert not (tmp_path / "p.png").exists()
