#!/usr/bin/env bash
# The whole GPU check of issue 11, in one run: well under 8 minutes on one H100 or H200.
#
#   bash benchmarks/gpu/check.sh          # on the GPU machine, $OUT set (results come back)
#   bash benchmarks/gpu/check.sh --dry    # or DRY=1: the same steps on CPU, tiny batches
#
# Before a GPU run, here: `bash benchmarks/gpu/wheels.sh` (the wheels the GPU machine lacks,
# into .whl/), then run it with .whl carried, e.g. with the device tool:
#   run(command="bash benchmarks/gpu/check.sh", carry=[".whl"], timeout_s=540)
# The machine's torch is never touched: alexprof and the wheels are installed with
# --no-deps --no-index into a folder of their own (benchmarks/gpu/install.sh).
#
# Steps, each timed, its exit code kept (a failing step does not stop the others):
#   env        torch.__version__, CUDA and cuDNN versions, GPU name, nvidia-smi
#   install    the carried wheels and alexprof itself, --no-deps, into $SITE; torch unchanged
#   pytest     python -m pytest -m cuda
#   memtrace   alexnet, alexnet-2012, vgg16, googlenet-aux at -b 1,32,128, with
#              PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True and with the default allocator
#   linear     the source's linear-demo, both allocators
#   fit        alexprof fit alexnet-2012 --memory gtx580 -> batch B; B and B+1 run under
#              torch.cuda.set_per_process_memory_fraction (benchmarks/gpu/fit_run.py)
#   roofline   roofline alexnet-2012 -H h200 --measure on the GPU (CUDA events), float32, bfloat16
#   suite      the whole test suite on this machine's torch (the torch>=2.11 floor), in
#              what time is left of $BUDGET seconds
#
# Under $OUT (the device tool returns at most 8 files): check.log (everything printed),
# summary.json (environment, every step's exit code and time, each memtrace stage's status,
# the fit outcomes) and results.tar.gz (every JSON and log, repacked after each step, so a
# run cut short still returns what it did).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DRY=${DRY:-0}
for arg in "$@"; do
    case $arg in
        --dry) DRY=1 ;;
        *) echo "usage: $0 [--dry]" >&2; exit 2 ;;
    esac
done
PY=${PYTHON:-python3}
BUDGET=${BUDGET:-420}  # seconds for everything; the suite gets what is left
if [[ -z ${OUT:-} ]]; then
    OUT=$(mktemp -d /tmp/alexprof-gpu-out.XXXXXX)
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [[ -z ${_CHECK_LOGGED:-} ]]; then  # once more, with everything printed also in check.log
    _CHECK_LOGGED=1 OUT=$OUT DRY=$DRY bash "$0" 2>&1 | tee "$OUT/check.log"
    exit "${PIPESTATUS[0]}"
fi
WORK=$(mktemp -d /tmp/alexprof-gpu.XXXXXX)
SITE=$WORK/site
mkdir -p "$WORK/memtrace" "$WORK/fit" "$WORK/roofline" "$WORK/logs"

trap 'rm -rf "$WORK"' EXIT
if [[ $DRY == 1 ]]; then  # every step, but on alexnet alone (NETS=... for more), tiny batches
    DEV=cpu BATCHES=1,2 FIT_MEMORY=700MiB HW=epyc-7763 ROOF_NET=alexnet ROOF_BATCH=1 REPEATS=1
    DTYPES=float32 NETS=${NETS:-alexnet}
else
    DEV=cuda BATCHES=1,32,128 FIT_MEMORY=gtx580 HW=${HW:-h200} ROOF_NET=alexnet-2012 ROOF_BATCH=128
    REPEATS=5
    DTYPES="float32 bfloat16" NETS=${NETS:-alexnet alexnet-2012 vgg16 googlenet-aux}
fi
export PYTHONUNBUFFERED=1 TORCH_CPP_LOG_LEVEL=ERROR
: >"$WORK/steps.tsv"
echo "check.sh: dry=$DRY device=$DEV batches=$BATCHES out=$OUT work=$WORK python=$(command -v "$PY")"

pack() {  # summary.json and results.tar.gz from what is there now
    "$PY" "$ROOT/benchmarks/gpu/summary.py" "$WORK" "$OUT/summary.json" "$DRY" ||
        echo "check.sh: summary failed"
    tar -czf "$OUT/results.tar.gz.tmp" -C "$WORK" --exclude=site . &&
        mv "$OUT/results.tar.gz.tmp" "$OUT/results.tar.gz"
}

step() {  # step NAME LOG TIMEOUT CMD...: run, log, time, record the exit code
    local name=$1 log=$2 limit=$3 start=$SECONDS rc
    shift 3
    echo "== $name: $*"
    timeout "$limit" "$@" >"$WORK/logs/$log" 2>&1
    rc=$?
    tail -n 25 "$WORK/logs/$log"
    printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - start))" "$log" >>"$WORK/steps.tsv"
    echo "== $name: exit $rc in $((SECONDS - start)) s"
    pack
    return 0
}

# env: what this machine runs (the torch version again after install: it must not change)
step env env.log 120 "$PY" - "$WORK/env.json" <<'PY'
import json, platform, subprocess, sys
import torch
env = {
    "python": sys.version.split()[0],
    "platform": platform.platform(),
    "torch": torch.__version__,
    "cuda": torch.version.cuda,
    "cuda_available": torch.cuda.is_available(),
    "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
}
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    env.update(gpu=torch.cuda.get_device_name(0), gpu_memory=p.total_memory,
               capability=f"{p.major}.{p.minor}", multiprocessors=p.multi_processor_count)
    try:
        env["nvidia_smi"] = subprocess.run(["nvidia-smi"], capture_output=True, text=True,
                                           timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        env["nvidia_smi"] = f"not run: {e}"
json.dump(env, open(sys.argv[1], "w"), indent=2)
print({k: v for k, v in env.items() if k != "nvidia_smi"})
PY

# install: carried wheels and alexprof, no dependencies, no index, into $SITE: torch stays
step install install.log 300 env PYTHON="$PY" DRY="$DRY" \
    bash benchmarks/gpu/install.sh "$SITE" "$WORK/env.json"
if [[ $(awk -F'\t' '$1 == "install" {print $2}' "$WORK/steps.tsv") == 0 ]]; then
    export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
else
    echo "check.sh: install failed; alexprof runs from the source tree"
    export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
fi
ALEXPROF=("$PY" -m alexprof)

step pytest-cuda pytest-cuda.log 240 "$PY" -m pytest -m cuda -q -p no:cacheprovider -rs

for alloc in expandable default; do
    for net in $NETS linear-demo; do
        b=$BATCHES
        [[ $net == linear-demo ]] && b=256
        json=$WORK/memtrace/$alloc-$net.json
        if [[ $alloc == expandable ]]; then
            step "memtrace $alloc $net" "memtrace-$alloc-$net.log" 240 \
                env PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True \
                "${ALEXPROF[@]}" memtrace "$net" --device "$DEV" -b "$b" --format json -o "$json" --force
        else
            step "memtrace $alloc $net" "memtrace-$alloc-$net.log" 240 \
                env -u PYTORCH_CUDA_ALLOC_CONF -u PYTORCH_ALLOC_CONF \
                "${ALEXPROF[@]}" memtrace "$net" --device "$DEV" -b "$b" --format json -o "$json" --force
        fi
    done
done

step "fit predict" fit.log 60 "${ALEXPROF[@]}" fit alexnet-2012 --memory "$FIT_MEMORY" \
    --device "$DEV" --format json -o "$WORK/fit/fit.json" --force
B=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["batch"])' "$WORK/fit/fit.json" 2>/dev/null || echo 0)
if [[ $B -gt 0 ]]; then
    for batch in "$B" "$((B + 1))"; do
        step "fit run $batch" "fit-run-$batch.log" 180 \
            env PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True \
            "$PY" benchmarks/gpu/fit_run.py alexnet-2012 --batch "$batch" --memory "$FIT_MEMORY" \
            --device "$DEV" --out "$WORK/fit/run-$batch.json"
    done
    step "fit run $B device cap" "fit-run-$B-device.log" 180 \
        env PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True \
        "$PY" benchmarks/gpu/fit_run.py alexnet-2012 --batch "$B" --memory "$FIT_MEMORY" \
        --device "$DEV" --cap device --out "$WORK/fit/run-$B-device.json"
fi

for dtype in $DTYPES; do
    step "roofline $dtype" "roofline-$dtype.log" 180 "${ALEXPROF[@]}" roofline "$ROOF_NET" \
        -H "$HW" --dtype "$dtype" --batch "$ROOF_BATCH" --measure --device "$DEV" \
        --repeats "$REPEATS" --format json -o "$WORK/roofline/$ROOF_NET-$dtype.json" --force
done

left=$((BUDGET - SECONDS))
if [[ $DRY == 1 ]]; then
    printf 'suite\tskipped\t0\t-\n' >>"$WORK/steps.tsv"  # here it is the ordinary test run
    echo "== suite: skipped in the dry run"
elif ((left >= 60)); then
    xdist=()
    "$PY" -c "import xdist" 2>/dev/null && xdist=(-n 8)
    step suite suite.log "$left" "$PY" -m pytest -q -p no:cacheprovider "${xdist[@]}" -m "not cuda"
else
    printf 'suite\tskipped\t0\t-\n' >>"$WORK/steps.tsv"
    echo "== suite: skipped, ${left} s left of ${BUDGET}"
fi
pack
echo "check.sh: done in $SECONDS s; $OUT/summary.json"
