"""Built-in devices with their published peak arithmetic and memory bandwidth.

Every figure is a *dense* peak: where a datasheet quotes a "with sparsity"
figure (A100, H100, H200 tensor cores, 2:4 structured sparsity) the dense figure,
half of it, is used and the sparse one is left out.  Each device carries the
document its figures come from and, for CPUs, the arithmetic that turns clock,
cores and SIMD width into a peak.  No torch import here.

Dtypes name what the arithmetic runs in: ``float32`` is IEEE single precision
on the ordinary (non-tensor) units; ``tf32`` keeps float32 storage (4 bytes) but
multiplies on tensor cores with a 10-bit mantissa (Ampere and later);
``float16`` and ``bfloat16`` are 2-byte formats on tensor cores where a device
has them.  A device without a published peak for a dtype does not offer it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alexprof.errors import UsageError, choose

GiB = 1 << 30
TERA = 1e12
GIGA = 1e9

DTYPE_BYTES: dict[str, int] = {"float32": 4, "tf32": 4, "float16": 2, "bfloat16": 2}


@dataclass(frozen=True)
class Device:
    """One device's peaks.  ``peak_flops`` is FLOP/s per dtype (dense)."""

    name: str  # the key users type: --hardware NAME
    title: str
    kind: str  # "gpu" | "cpu"
    peak_flops: dict[str, float]
    bandwidth: float  # bytes/s, DRAM (GPU memory or all CPU memory channels)
    memory: int  # bytes of device memory (GPU) or 0 when it depends on the system (CPU)
    source: str  # where the figures are published
    derivation: str = ""  # how a figure not printed as such was derived
    notes: tuple[str, ...] = field(default_factory=tuple)

    def peak(self, dtype: str) -> float:
        check_dtype(dtype)
        try:
            return self.peak_flops[dtype]
        except KeyError:
            raise UsageError(
                f"--dtype {dtype}: {self.name} has no published {dtype} peak; "
                f"valid for {self.name}: {', '.join(self.peak_flops)}"
            ) from None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "peak_flops": dict(self.peak_flops),
            "bandwidth": self.bandwidth,
            "memory": self.memory,
            "source": self.source,
            "derivation": self.derivation,
        }


def check_dtype(dtype: str) -> str:
    choose(DTYPE_BYTES, dtype, "dtype")
    return dtype


_SPARSE = "sparsity figures excluded: dense = half the datasheet's 'with sparsity' number"

# both A100 SXM4 variants have the same dense peaks; only memory and bandwidth differ
_A100_PEAKS = {
    "float32": 19.5 * TERA,
    "tf32": 156 * TERA,
    "float16": 312 * TERA,
    "bfloat16": 312 * TERA,
}

DEVICES: dict[str, Device] = {
    d.name: d
    for d in (
        Device(
            "gtx580",
            "NVIDIA GeForce GTX 580 3GB (Fermi, 2010; AlexNet's GPU)",
            "gpu",
            {"float32": 1581.1 * GIGA},
            192.4 * GIGA,
            3 * GiB,
            "NVIDIA GeForce GTX 580 product specifications (512 CUDA cores, 1544 MHz processor "
            "clock, 192.4 GB/s); 3 GB board as used by Krizhevsky et al. 2012",
            "512 cores x 1.544 GHz x 2 FLOPs per fused multiply-add = 1581.1 GFLOP/s",
            ("no fp16 arithmetic and no tensor cores",),
        ),
        Device(
            "v100",
            "NVIDIA Tesla V100 SXM2 32GB (Volta, 2017)",
            "gpu",
            {"float32": 15.7 * TERA, "float16": 125 * TERA},
            900 * GIGA,
            32 * GiB,
            "NVIDIA Tesla V100 datasheet: SXM2 single precision 15.7 TFLOPS, tensor "
            "performance 125 TFLOPS, HBM2 900 GB/s",
            "float16 is the tensor-core peak (Volta has no sparsity feature)",
        ),
        Device(
            "a100-40gb",
            "NVIDIA A100 SXM4 40GB (Ampere, 2020)",
            "gpu",
            _A100_PEAKS,
            1555 * GIGA,
            40 * GiB,
            "NVIDIA A100 Tensor Core GPU datasheet: FP32 19.5 TFLOPS, TF32 156, FP16/BF16 "
            "tensor 312 TFLOPS, 1,555 GB/s (40GB)",
            _SPARSE,
        ),
        Device(
            "a100-80gb",
            "NVIDIA A100 SXM4 80GB (Ampere, 2020)",
            "gpu",
            _A100_PEAKS,
            2039 * GIGA,
            80 * GiB,
            "NVIDIA A100 Tensor Core GPU datasheet: FP32 19.5 TFLOPS, TF32 156, FP16/BF16 "
            "tensor 312 TFLOPS, 2,039 GB/s (80GB SXM)",
            _SPARSE,
        ),
        Device(
            "h100",
            "NVIDIA H100 SXM5 80GB (Hopper, 2022)",
            "gpu",
            {
                "float32": 67 * TERA,
                "tf32": 494.5 * TERA,
                "float16": 989.5 * TERA,
                "bfloat16": 989.5 * TERA,
            },
            3350 * GIGA,
            80 * GiB,
            "NVIDIA H100 Tensor Core GPU datasheet, SXM: FP32 67 TFLOPS, TF32 989 and "
            "FP16/BF16 1,979 TFLOPS with sparsity, 3.35 TB/s",
            _SPARSE + " (989 / 2 = 494.5, 1979 / 2 = 989.5)",
        ),
        Device(
            "h200",
            "NVIDIA H200 SXM 141GB (Hopper, 2024)",
            "gpu",
            {
                "float32": 67 * TERA,
                "tf32": 494.5 * TERA,
                "float16": 989.5 * TERA,
                "bfloat16": 989.5 * TERA,
            },
            4800 * GIGA,
            141 * 10**9,
            "NVIDIA H200 Tensor Core GPU datasheet, SXM: FP64 34 TFLOPS, FP32 67 TFLOPS, TF32 "
            "989 and FP16/BF16 1,979 TFLOPS with sparsity, 141 GB HBM3e, 4.8 TB/s",
            _SPARSE + " (989 / 2 = 494.5, 1979 / 2 = 989.5); memory 141 GB = 141 x 10^9 B, as "
            "the datasheet counts it",
            ("the H100's chip with more and faster memory: same arithmetic peaks",),
        ),
        Device(
            "xeon-e5-2690",
            "Intel Xeon E5-2690 (Sandy Bridge-EP, 2012), one socket",
            "cpu",
            {"float32": 371.2 * GIGA},
            51.2 * GIGA,
            0,
            "Intel ARK, Xeon E5-2690: 8 cores, 2.9 GHz base, AVX, 4 channels DDR3-1600, max "
            "memory bandwidth 51.2 GB/s",
            "8 cores x 2.9 GHz x 16 float32 FLOPs/cycle (one 8-wide AVX multiply + one 8-wide "
            "add per cycle) = 371.2 GFLOP/s at base clock",
            ("a server CPU of AlexNet's year, for comparison with the GTX 580",),
        ),
        Device(
            "epyc-7763",
            "AMD EPYC 7763 (Zen 3, 2021), one socket",
            "cpu",
            {"float32": 5017.6 * GIGA},
            204.8 * GIGA,
            0,
            "AMD EPYC 7763 product page: 64 cores, 2.45 GHz base, 8 channels DDR4-3200, "
            "per-socket memory bandwidth 204.8 GB/s",
            "64 cores x 2.45 GHz x 32 float32 FLOPs/cycle (two 256-bit FMA pipes: 2 x 8 lanes x "
            "2 FLOPs) = 5017.6 GFLOP/s at base clock",
            (
                "a typical current server CPU, contemporary of the A100",
                "no native fp16/bf16 arithmetic (conversion only)",
            ),
        ),
    )
}


def get(name: str) -> Device:
    return choose(
        DEVICES, name, "hardware", " (or describe one with --peak-tflops and --bandwidth)"
    )


def resolve(
    hardware: str | None, peak_tflops: float | None, bandwidth_gbs: float | None, dtype: str
) -> Device:
    """The device a command describes: a built-in one, one from the two figures, or a
    built-in one with either figure overridden."""
    check_dtype(dtype)
    base = get(hardware) if hardware else None
    if base is None and (peak_tflops is None or bandwidth_gbs is None):
        raise UsageError(
            f"give --hardware NAME (one of {', '.join(DEVICES)}) or both --peak-tflops and "
            "--bandwidth"
        )
    if peak_tflops is None and bandwidth_gbs is None:
        assert base is not None
        return base
    peaks = dict(base.peak_flops) if base else {}
    if peak_tflops is not None:
        peaks[dtype] = peak_tflops * TERA
    return Device(
        f"{base.name}*" if base else "custom",
        f"{base.title}, figures overridden" if base else "a device given on the command line",
        base.kind if base else "custom",
        peaks,
        bandwidth_gbs * GIGA if bandwidth_gbs is not None else base.bandwidth,  # type: ignore[union-attr]
        base.memory if base else 0,
        "--peak-tflops / --bandwidth on the command line"
        + (f"; other figures from {base.source}" if base else ""),
    )
