"""Run one training step at a batch size under a memory cap: does ``alexprof fit`` hold?

``alexprof fit MODEL --memory M`` predicts the largest batch B whose training step fits in M.
This runs the step that ``memtrace`` runs (:func:`alexprof.torchside.tracer.run_step`) at one
batch size with the CUDA caching allocator capped by
``torch.cuda.set_per_process_memory_fraction``, and writes what happened as JSON: B must run,
B + 1 must run out of memory in the stage the prediction names (the first whose predicted
peak exceeds M).

The cap: the prediction is what ``memory_allocated`` reaches during the step, the
cuBLAS/cuDNN workspaces that the warm-up creates not included (``fit`` leaves them to
``--reserve``).  So by default (``--cap step``) the cap is M plus what the warm-up leaves
allocated, read first in this process: the step itself gets exactly M.  ``--cap device``
caps the allocator at M flat (what a 3 GB card would give, workspaces included).  The
fraction caps what the allocator *reserves*, so cached blocks and fragmentation count too:
run with ``PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True`` to leave little of that.

On CPU (``--device cpu``, the dry run of benchmarks/gpu/check.sh) nothing can be capped:
the step runs uncapped and the JSON says so.  Usage::

    python benchmarks/gpu/fit_run.py alexnet-2012 --batch 250 --memory gtx580 --out fit.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from alexprof import load_model, predict
from alexprof.errors import AlexprofError
from alexprof.parse import byte_size
from alexprof.report.output import write_atomic
from alexprof.speed.devices import DEVICES


def predicted_oom_stage(net: Any, batch: int, memory: int, device: str) -> str | None:
    """The first stage whose predicted peak exceeds ``memory`` (None: the step fits)."""
    for s in predict(net, batch=batch, device=device).stages:
        if s.peak > memory:
            return str(s.stage)
    return None


def run(model: str, batch: int, memory: int, device: str, cap_mode: str) -> dict[str, Any]:
    import torch

    from alexprof.torchside.tracer import DeviceOutOfMemory, allocator_config, run_step

    net = load_model(model)
    pred = predict(net, batch=batch, device=device)
    doc: dict[str, Any] = {
        "model": model,
        "batch": batch,
        "device": device,
        "memory": memory,
        "cap_mode": cap_mode,
        "torch": torch.__version__,
        "allocator": allocator_config(),
        "predicted_peak": pred.peak,
        "predicted_fits": pred.peak <= memory,
        "predicted_oom_stage": predicted_oom_stage(net, batch, memory, device),
        "predicted_stages": {str(s.stage): {"allocated": s.allocated, "peak": s.peak}
                             for s in pred.stages},
    }
    if device == "cuda":
        warm = run_step(net, net.input_shape, 1, device="cuda")  # context and workspaces
        assert warm.warmup is not None
        baseline = warm.warmup["allocated"]
        total = torch.cuda.get_device_properties(0).total_memory
        cap = memory + baseline if cap_mode == "step" else memory
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.set_per_process_memory_fraction(cap / total)
        doc.update(workspaces=baseline, device_total=total, cap=cap, fraction=cap / total,
                   device_name=torch.cuda.get_device_name())
    else:
        doc.update(cap=None, note="CPU: no allocator cap; the step ran uncapped")
    try:
        trace = run_step(net, net.input_shape, batch, device=device)
    except DeviceOutOfMemory as e:
        doc.update(ran=False, oom_stage=str(e.stage), error=str(e))
    else:
        doc.update(ran=True, oom_stage=None,
                   stages={str(s.stage): {"allocated": s.allocated, "peak": s.peak}
                           for s in trace.stages})
    if device == "cuda":
        doc.update(max_reserved=torch.cuda.max_memory_reserved(),
                   max_allocated=torch.cuda.max_memory_allocated())
    doc["as_predicted"] = (  # None: nothing capped, nothing to compare (CPU)
        None if device != "cuda" else doc["ran"] == doc["predicted_fits"] and (
            doc["ran"] or doc["oom_stage"] == doc["predicted_oom_stage"]))
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--memory", default="gtx580", help="a size (3GiB) or a device name")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--cap", choices=("step", "device"), default="step", dest="cap_mode")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        memory = byte_size(args.memory, "--memory", 1, {n: d.memory for n, d in DEVICES.items()})
        doc = run(args.model, args.batch, memory, args.device, args.cap_mode)
    except AlexprofError as e:
        print(f"fit_run: error: {e}", file=sys.stderr)
        return 2
    write_atomic(args.out, json.dumps(doc, indent=2) + "\n", replace=True)
    print(f"fit_run: {args.model} batch {args.batch}: "
          + ("ran" if doc["ran"] else f"out of memory in {doc['oom_stage']}")
          + f"; predicted {'fits' if doc['predicted_fits'] else doc['predicted_oom_stage']}"
          + {True: "", False: " -- NOT AS PREDICTED", None: " (nothing capped on CPU)"}[
              doc["as_predicted"]], file=sys.stderr)
    return 1 if doc["as_predicted"] is False else 0


if __name__ == "__main__":
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
    sys.exit(main())
