"""`fit`: the search and the command (pure arithmetic, no torch); sizes: tests/cli/test_parse.py."""

from __future__ import annotations

import pytest

from alexprof.nets.zoo import index as zoo
from alexprof.errors import UsageError
from alexprof.memory.fit import fit, largest_batch
from alexprof.memory.predict import predict


@pytest.mark.parametrize("limit_bytes, per_sample, expected", [
    (100, 7, 14),  # 14*7 = 98 <= 100 < 105 = 15*7
    (6, 7, 0),  # not even one
    (7, 7, 1),
    (2**20, 1, 2**20),  # a power of two: the doubling phase lands on it exactly
])
def test_largest_batch(limit_bytes: int, per_sample: int, expected: int) -> None:
    n, calls = largest_batch(lambda b: b * per_sample <= limit_bytes)
    assert n == expected
    assert calls <= 2 * max(1, expected).bit_length() + 2  # O(log n)


@pytest.mark.parametrize("model, device", [("alexnet", "cuda"), ("alexnet-2012", "cpu")])
def test_fit_is_the_boundary_of_the_prediction(model: str, device: str) -> None:
    net = zoo.get(model)
    peak5 = predict(net, batch=5, device=device).peak
    at = fit(net, peak5, device=device)
    assert at.batch == 5 and at.prediction is not None and at.prediction.peak == peak5
    assert at.next_peak == predict(net, batch=6, device=device).peak > peak5
    assert fit(net, peak5 - 1, device=device).batch == 4


def test_reserve_is_taken_off_the_budget() -> None:
    net = zoo.get("alexnet")
    peak3 = predict(net, batch=3).peak
    assert fit(net, peak3 + 1000, reserve=1000).batch == 3
    assert fit(net, peak3 + 1000, reserve=1001).batch == 2
    with pytest.raises(UsageError, match="leaves nothing"):
        fit(net, 1000, reserve=1000)


def test_huge_memory_is_pure_arithmetic() -> None:
    # far beyond this machine's 24 GiB: a prediction, never an allocation
    result = fit(zoo.get("alexnet"), 2**50)
    assert result.batch > 10**6 and result.prediction.peak <= 2**50 < result.next_peak


def test_cli_json_contract(cli) -> None:
    doc = cli("fit", "alexnet-2012", "--memory", "gtx580", "-f", "json").json()
    assert doc["memory"] == 3 * 2**30
    assert doc["peak_predicted"] <= doc["memory"] < doc["next_peak_predicted"]
    assert doc["batch"] >= 1 and doc["breakdown"]["parameters"] > 0
    assert [s["stage"] for s in doc["stages"]][0] == "input"


def test_cli_table_and_errors(cli) -> None:
    out = cli("fit", "vgg16", "-m", "16GB", "--reserve", "600MiB").out
    assert "the largest batch that fits in" in out and "covered by --reserve" in out
    assert "not even batch 1 fits" in cli("fit", "vgg16", "-m", "10MB").out
    bad = cli("fit", "-m", "3 potatoes")
    assert bad.code == 2 and "is not a size" in bad.err
    assert cli("fit", "--optimizer", "lion").code == 2
