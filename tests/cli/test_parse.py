"""alexprof.parse: one parser per kind of value, and the exact line each bad value gets."""

from __future__ import annotations

import pytest

from alexprof import parse
from alexprof.errors import UsageError
from alexprof.speed.devices import DEVICES

SIZES = {name: d.memory for name, d in DEVICES.items()}
HINT = ", or a device from `alexprof roofline --list-hardware` such as gtx580"


def message(call, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as e:
        call(*args, **kwargs)
    return str(e.value)


@pytest.mark.parametrize("text, value", [("1", 1), ("32", 32), (" 7 ", 7), ("+5", 5), ("1_000", 1000)])
def test_positive_int_is_pythons_int_above_zero(text: str, value: int) -> None:
    assert parse.positive_int(text, "--batch") == value


@pytest.mark.parametrize("call, line", [
    ((parse.positive_int, "x", "--batch"), "--batch 'x' is not an integer; give a positive integer such as 32"),
    ((parse.positive_int, "1.5", "--batch"), "--batch '1.5' is not an integer; give a positive integer such as 32"),
    ((parse.positive_int, "0", "--batch"), "--batch 0 must be a positive integer"),
    ((parse.positive_int, "-3", "--batch"), "--batch -3 must be a positive integer"),
    ((parse.positive_count, "0", "--repeats"), "--repeats '0' must be a positive integer such as 5"),
    ((parse.positive_count, "two", "--threads"), "--threads 'two' must be a positive integer such as 5"),
    ((parse.batch_list, "1,x"), "--batch '1,x': 'x' is not an integer; give N or a comma list such as 1,8,32"),
    ((parse.batch_list, "0"), "--batch '0': 0 must be a positive integer"),
    ((parse.batch_list, "4,,8"), "--batch '4,,8': '' is not an integer; give N or a comma list such as 1,8,32"),
    ((parse.positive_number, "x", "--peak-tflops", "19.5"), "--peak-tflops 'x' is not a number; give e.g. 19.5"),
    ((parse.positive_number, "-1", "--peak-tflops", "19.5"), "--peak-tflops '-1' must be a positive number such as 19.5"),
    ((parse.positive_number, "nan", "--bandwidth", "1555"), "--bandwidth 'nan' must be a positive number such as 1555"),
    ((parse.positive_number, "inf", "--bandwidth", "1555"), "--bandwidth 'inf' must be a positive number such as 1555"),
    ((parse.shape, "three"), "--input 'three' is not a shape; give C,H,W such as 3,224,224"),
    ((parse.shape, "3,224"), "--input '3,224': need three positive integers C,H,W such as 3,224,224"),
    ((parse.shape, "3x0x4"), "--input '3x0x4': need three positive integers C,H,W such as 3,224,224"),
    ((parse.byte_size, "3XB", "--memory", 1, SIZES, HINT),
     "--memory '3XB' is not a size; give a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, "
     "TiB), e.g. 3GiB or 16GB, or a device from `alexprof roofline --list-hardware` such as gtx580"),
    ((parse.byte_size, "epyc-7763", "--memory", 1, SIZES),
     "--memory 'epyc-7763': epyc-7763 has no fixed memory size; give a size such as 64GiB"),
    ((parse.byte_size, "0", "--memory"), "--memory '0' must be at least 1 byte(s)"),
])
def test_each_bad_value_has_its_line(call: tuple, line: str) -> None:
    assert message(*call) == line


def test_batch_list_and_shape() -> None:
    assert parse.batch_list("1, 8,32") == [1, 8, 32] and parse.batch_list("4") == [4]
    assert parse.shape("3,224,224") == parse.shape("3x224x224") == (3, 224, 224)
    assert parse.positive_number("19.5", "--peak-tflops", "19.5") == 19.5


@pytest.mark.parametrize("text, value", [
    ("3GiB", 3 * 2**30), ("16GB", 16 * 10**9), ("16 gb", 16 * 10**9), ("512", 512),
    ("1.5MiB", 3 * 2**19), ("80GiB", 80 * 2**30), ("gtx580", 3 * 2**30), ("0", 0),
])
def test_byte_size(text: str, value: int) -> None:
    assert parse.byte_size(text, "--reserve", 0, SIZES) == value


@pytest.mark.parametrize("text", ["3XB", "GiB", "-1GB", "", "epyc-7763", "gtx580"])
def test_byte_size_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse.byte_size(text)  # no names given: a device name is not a size


@pytest.mark.parametrize("args, line", [
    (["flops", "--batch", "x"], "--batch 'x' is not an integer; give a positive integer such as 32"),
    (["compare", "lenet5", "--batch", "0"], "--batch 0 must be a positive integer"),
    (["roofline", "-H", "v100", "--repeats", "0"], "--repeats '0' must be a positive integer such as 5"),
    (["memtrace", "--predict-only", "--batch", "1,x"],
     "--batch '1,x': 'x' is not an integer; give N or a comma list such as 1,8,32"),
    (["roofline", "--peak-tflops", "fast"], "--peak-tflops 'fast' is not a number; give e.g. 19.5"),
    (["fit", "--input", "3,2"], "--input '3,2': need three positive integers C,H,W such as 3,224,224"),
    (["fit", "-m", "epyc-7763"], "--memory 'epyc-7763': epyc-7763 has no fixed memory size; "
     "give a size such as 64GiB"),
    (["fit", "--reserve", "-1"], "--reserve '-1' is not a size; give a number and a unit (B, KB, MB, "
     "GB, TB, KiB, MiB, GiB, TiB), e.g. 3GiB or 16GB, or a device from `alexprof roofline "
     "--list-hardware` such as gtx580"),
])
def test_the_cli_prints_that_line_and_exits_2(cli, args: list[str], line: str) -> None:
    r = cli(*args)
    assert (r.code, r.out, r.err) == (2, "", f"alexprof: error: {line}\n")
