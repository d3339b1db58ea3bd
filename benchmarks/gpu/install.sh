#!/usr/bin/env bash
# install.sh SITE ENV_JSON: alexprof and the carried wheels (.whl/, from wheels.sh) into SITE,
# with --no-deps --no-index: nothing is fetched and the machine's torch is not touched (checked
# against the version ENV_JSON recorded before). Part of benchmarks/gpu/check.sh. With DRY=1
# the carried wheels (CPython 3.12 builds, for the GPU machine) are left out: the Python here
# has those packages already.
set -euo pipefail
cd "$(dirname "$0")/../.."
SITE=$1 ENV_JSON=$2 PY=${PYTHON:-python3}
if [[ ${DRY:-0} != 1 ]] && compgen -G ".whl/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" .whl/*.whl
else
    echo "install: no carried wheels installed (dry run, or no .whl/)"
fi
"$PY" -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir \
    --target "$SITE" .
PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH} "$PY" - "$ENV_JSON" <<'PY'
import json
import sys
from importlib.metadata import version

import torch

import alexprof
import ptflops  # noqa: F401
import typer  # noqa: F401

before = json.load(open(sys.argv[1]))["torch"]
found = {n: version(n) for n in ("alexprof", "ptflops", "typer", "rich", "numpy")}
print(f"install: alexprof from {alexprof.__file__}; {found}; torch {torch.__version__}")
assert torch.__version__ == before, f"the install changed torch: {before} -> {torch.__version__}"
PY
