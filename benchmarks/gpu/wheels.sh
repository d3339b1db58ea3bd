#!/usr/bin/env bash
# Fetch, here (where PyPI is reachable), the wheels that benchmarks/gpu/check.sh installs on a
# GPU machine that has no package registry: what alexprof needs that such a machine lacks or
# may hold too old (its torch, numpy and rich stay as they are). Each is pinned to the version
# installed in the running Python, the one this project's tests passed with. The wheels are
# for CPython 3.12 on x86-64 Linux (the GPU machines' Python) and land in .whl/ (ignored by
# git); a device run carries that folder: run(..., carry=[".whl"]).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
NAMES="ptflops typer annotated-doc pydantic pydantic-core annotated-types typing-inspection typing-extensions"
SPECS=$($PY - $NAMES <<'PY'
import sys
from importlib.metadata import version
print(" ".join(f"{n}=={version(n)}" for n in sys.argv[1:]))
PY
)
rm -rf .whl && mkdir -p .whl
platforms=""
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
    platforms="$platforms --platform $p"
done
# shellcheck disable=SC2086
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    $platforms -d .whl $SPECS
ls -l .whl
