"""`alexprof fit` on the command line: sizes and device names for --memory and --reserve."""

from __future__ import annotations


def test_device_names_are_sizes(cli) -> None:
    by_name = cli("fit", "alexnet", "-m", "gtx580", "-f", "json").json()
    by_size = cli("fit", "alexnet", "-m", "3GiB", "-f", "json").json()
    assert by_name == by_size and by_name["memory"] == 3 * 2**30


def test_reserve_is_a_size_too(cli) -> None:
    doc = cli("fit", "alexnet", "-m", "a100-80gb", "--reserve", "600MiB", "-f", "json").json()
    assert (doc["memory"], doc["reserve"]) == (80 * 2**30, 600 * 2**20)
    csv = cli("fit", "alexnet", "-m", "16GB", "-f", "csv").out.splitlines()
    assert csv[0] == "model,memory,reserve,batch,peak_predicted,next_peak_predicted"
    assert csv[1].startswith("alexnet,16000000000,0,")


def test_bad_sizes_are_one_line_exit_2(cli) -> None:
    for args, line in [
        (("-m", "0"), "--memory '0' must be at least 1 byte(s)"),
        (("-m", "1GB", "--reserve", "2GB"), "--reserve 2,000,000,000 B leaves nothing of --memory "
                                            "1,000,000,000 B"),
    ]:
        r = cli("fit", *args)
        assert (r.code, r.err) == (2, f"alexprof: error: {line}\n")
