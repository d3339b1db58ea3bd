"""The public API: four callables, loaded lazily, whatever submodules were imported first."""

from __future__ import annotations

import importlib
import subprocess
import sys

import alexprof


def test_the_api_names_are_the_functions_even_after_every_package_is_imported() -> None:
    # a package or module named like an API function would shadow it once imported
    for module in ("alexprof.counting.analysis", "alexprof.memory.fit", "alexprof.memory.predict",
                   "alexprof.nets.resolve", "alexprof.report.views", "alexprof.cli"):
        importlib.import_module(module)
    from alexprof import count, fit, load_model, predict

    assert [f.__name__ for f in (count, fit, load_model, predict)] == [
        "count", "fit", "load_model", "predict"]
    net = load_model("alexnet")
    assert count(net).totals()["params"] == 50_844_008  # the source table's network
    # batch 1 on CUDA: every storage rounded to 512 B, so the peak is a multiple of 512
    assert predict(net, batch=1, device="cuda").peak % 512 == 0
    assert fit(net, memory=3 * 2**30).batch >= 1


def test_importing_the_api_imports_no_torch() -> None:
    code = ("import sys; from alexprof import count, fit, load_model, predict; "
            "count(load_model('alexnet')); fit(load_model('alexnet'), memory=2**32); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        alexprof.nonexistent  # noqa: B018
    except AttributeError as e:
        assert "nonexistent" in str(e)
    else:
        raise AssertionError("alexprof.nonexistent did not raise")
