"""Charts for ``--plot FILE.png|FILE.svg``: per-layer bars, a roofline, a memory timeline.

Every chart function takes plain data (reports, lists of numbers), draws with
matplotlib's non-interactive Agg backend and writes the file atomically (a
temporary file in the same folder, then a rename).  matplotlib is an optional
extra (``pip install 'alexprof[plot]'``) imported only here and only when a
chart is drawn; :func:`check_plot` fails early, with one line, when it is
missing.  No torch import.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alexprof.counting.rows import Report
from alexprof.errors import UsageError
from alexprof.report.output import check_target
from alexprof.report.render import human

SUFFIXES = (".png", ".svg")


def check_plot(path: Path | None, force: bool = False) -> Path | None:
    """Validate ``--plot`` before any work: suffix, target, matplotlib installed."""
    if path is None:
        return None
    if path.suffix.lower() not in SUFFIXES:
        raise UsageError(f"--plot {path}: the file must end in .png or .svg")
    check_target(path, force, "--plot")
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError(
            "--plot needs matplotlib, which is not installed; pip install 'alexprof[plot]'"
        )
    return path


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _units(axis: Any, unit: str = "") -> None:
    """Tick labels in human units ('2 G', '1 TFLOP/s') instead of an offset like 1e9."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: _short(v, unit)))


def binary(n: float) -> str:
    """Bytes in binary units, as allocators count them: 4194304 -> '4 MiB'."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if abs(n) >= 1 << shift:
            return f"{n / (1 << shift):.4g} {unit}"
    return f"{n:g} B"


def _short(v: float, unit: str) -> str:
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= factor:
            return f"{v / factor:g} {prefix}{unit}"
    return f"{v:g} {unit}".rstrip()


def _clusters(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Merge the labels of points that would sit on top of each other (log-log);
    names keep their given (execution) order."""
    out: list[tuple[float, float, list[tuple[int, str]]]] = []
    for x, y, i, name in sorted((x, y, i, n) for i, (x, y, n) in enumerate(points)):
        if (
            out
            and abs(math.log10(x / out[-1][0])) < 0.08
            and abs(math.log10(y / out[-1][1])) < 0.08
        ):
            out[-1][2].append((i, name))
        else:
            out.append((x, y, [(i, name)]))
    return [(x, y, ", ".join(n for _, n in sorted(names))) for x, y, names in out]


def _save(fig: Any, path: Path) -> None:
    from alexprof.report.output import atomic_target

    try:
        with atomic_target(path) as tmp:
            fig.savefig(tmp, format=path.suffix.lower()[1:], dpi=110, bbox_inches="tight")
        print(f"wrote {path}", file=sys.stderr)
    finally:
        _pyplot().close(fig)


def layer_bars(
    path: Path,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    xlabel: str,
    stacked: bool = False,
    note: str = "",
) -> None:
    """Horizontal bars, one group per layer in execution order (top to bottom)."""
    plt = _pyplot()
    n, k = len(labels), len(series)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.32 * n * (1 if stacked else max(1, k) * 0.7)))
    height = 0.8 if stacked else 0.8 / max(1, k)
    left = [0.0] * n
    for i, (name, values) in enumerate(series.items()):
        ys = [j + (0 if stacked else (i - (k - 1) / 2) * height) for j in range(n)]
        ax.barh(ys, values, height=height, left=left if stacked else None, label=name)
        if stacked:
            left = [a + b for a, b in zip(left, values)]
        else:
            for y, v in zip(ys, values):
                ax.text(v, y, f" {human(v)}", va="center", fontsize=7)
    if stacked:
        for j, end in enumerate(left):
            ax.text(end, j, f" {human(end)}", va="center", fontsize=8)
    ax.set_yticks(range(n), labels)
    ax.invert_yaxis()
    top = max((max(v, default=0) for v in series.values()), default=0)
    ax.set_xlim(0, (max(left) if stacked and left else top) * 1.18 or 1)
    _units(ax.xaxis)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    if k > 1:
        ax.legend(loc="lower right", fontsize=8)
    if note:
        fig.text(0.01, -0.02, note, fontsize=7, va="top", wrap=True)
    _save(fig, path)


def report_chart(report: Report, kind: str, path: Path) -> None:
    """``kind`` 'params': weights + bias per learned layer; 'flops': forward and backward."""
    if kind == "params":
        rows = [r for r in report.rows if r.params]
        layer_bars(
            path,
            f"{report.model}: parameters per layer ({report.total('params'):,} in all)",
            [r.name for r in rows],
            {"weights": [r.weights or 0 for r in rows], "bias": [r.bias or 0 for r in rows]},
            "parameters",
            stacked=True,
            note="Layers without parameters are not shown.",
        )
        return
    rows = [r for r in report.rows if r.flops or r.flops_backward]
    layer_bars(
        path,
        f"{report.model}: FLOPs per layer, batch {report.batch} "
        f"(convention '{report.convention}', FLOPs = 2 x MACs)",
        [r.name for r in rows],
        {
            "forward": [r.flops or 0 for r in rows],
            "backward": [r.flops_backward or 0 for r in rows],
        },
        "FLOPs",
        note="Layers with no FLOPs under this convention are not shown.",
    )


def roofline_chart(
    path: Path, title: str, peak: float, bandwidth: float, layers: Sequence[dict[str, Any]]
) -> None:
    """Log-log roofline.  ``layers``: dicts with name, intensity, flops, time_floor_s and,
    when measured, achieved_flops_per_s.  A layer sits on the roof at
    ``flops / floor`` (its best attainable FLOP/s); a measured one also below it."""
    plt = _pyplot()
    placed = [x for x in layers if x.get("intensity") and x.get("flops")]
    skipped = [x["name"] for x in layers if not (x.get("intensity") and x.get("flops"))]
    ridge = peak / bandwidth
    xs = [x["intensity"] for x in placed] + [ridge]
    lo, hi = min(xs) / 30, max(xs) * 8
    achieved = [x["achieved_flops_per_s"] for x in placed if x.get("achieved_flops_per_s")]
    bottom = min([lo * bandwidth, *achieved]) / 2
    fig, ax = plt.subplots(figsize=(8, 5.5))
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.loglog(grid, [min(peak, i * bandwidth) for i in grid], color="black", lw=1.5)
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom, peak * 12)
    ax.axvline(ridge, color="grey", ls=":", lw=1)
    ax.text(
        ridge * 1.08,
        bottom * 1.3,
        f"ridge {ridge:.3g} FLOP/B",
        fontsize=8,
        color="grey",
        rotation=90,
        va="bottom",
    )
    ax.text(ridge * 1.15, peak / 1.25, f"peak {human(peak, 'FLOP/s')}", fontsize=8, va="top")
    x0 = lo * 2
    (a, b), (c, d) = ax.transData.transform([(x0, x0 * bandwidth), (x0 * 4, x0 * 4 * bandwidth)])
    ax.text(
        x0,
        x0 * bandwidth * 1.5,
        f"memory {human(bandwidth, 'B/s')}",
        fontsize=8,
        rotation=math.degrees(math.atan2(d - b, c - a)),
        rotation_mode="anchor",
    )
    labels = []
    for i, layer in enumerate(placed):
        roof = layer["flops"] / layer["time_floor_s"]
        color = f"C{i % 10}"
        ax.plot([layer["intensity"]], [roof], "o", color=color)
        labels.append((layer["intensity"], roof, layer["name"]))
        got = layer.get("achieved_flops_per_s")
        if got:
            ax.plot([layer["intensity"]] * 2, [got, roof], ":", color=color, lw=1)
            ax.plot([layer["intensity"]], [got], "s", mfc="none", color=color)
    for x, y, text in _clusters(labels):
        ax.annotate(
            text,
            (x, y),
            textcoords="offset points",
            xytext=(2, 6),
            fontsize=7,
            rotation=50,
            rotation_mode="anchor",
        )
    _units(ax.yaxis, "FLOP/s")
    ax.set_xlabel("arithmetic intensity (FLOP per byte)")
    ax.set_ylabel("FLOP/s")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.text(
        0.99,
        0.02,
        "\u25cf a layer at its floor" + ("\n\u25a1 as measured" if achieved else ""),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
    )
    if skipped:
        fig.text(
            0.01,
            -0.01,
            "Not placed (no FLOPs, memory bound by definition): " + ", ".join(skipped),
            fontsize=7,
            va="top",
            wrap=True,
        )
    _save(fig, path)


def stage_timeline(
    path: Path,
    title: str,
    stages: Sequence[str],
    allocated: Sequence[int],
    predicted: Sequence[int] | None = None,
    peak: int | None = None,
    capacity: int | None = None,
) -> None:
    """Memory by stage of a training step: measured (and predicted) bytes per stage,
    the peak, and optionally the device's capacity.  Plain lists, in stage order."""
    plt = _pyplot()
    n = len(stages)
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * n), 4.5))
    xs = list(range(n))
    ax.step(xs, allocated, where="mid", color="C0", lw=2, label="allocated")
    ax.plot(xs, allocated, "o", color="C0")
    for x, y in zip(xs, allocated):
        ax.annotate(
            binary(y), (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7
        )
    if predicted is not None:
        ax.plot(xs, predicted, "x", color="C1", ms=9, label="predicted")
    if peak is not None:
        ax.axhline(peak, color="C3", ls="--", lw=1, label=f"peak {binary(peak)}")
    if capacity is not None:
        ax.axhline(capacity, color="black", ls="-.", lw=1, label=f"capacity {binary(capacity)}")
    ax.set_xticks(xs, stages, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("bytes allocated")
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    top = max([*allocated, *(predicted or []), peak or 0, capacity or 0])
    step = 1 << max(10, int(math.log2(top / 6)) if top > 0 else 10)  # a power-of-two tick step
    ax.yaxis.set_major_locator(MultipleLocator(step))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: binary(v)))
    ax.set_ylim(0, top * 1.15 or 1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, axis="y", alpha=0.3)
    _save(fig, path)
