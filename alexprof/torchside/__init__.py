"""The measured side, and the only package that imports torch (inside its modules, never
here, so importing this package costs nothing).

``bridge`` (descriptors -> nn.Module), ``record`` and ``replay`` (nn.Module -> descriptors
and per-call FLOPs, on meta), ``usermodule`` (loading a user's module), ``measure`` (numel,
FlopCounterMode, ptflops), ``profiler`` and ``tracer`` (memory of a real training step),
``timing`` (``roofline --measure``) and ``quirks`` (the peers' known behaviours, pure).
Other packages reach it lazily, inside the function that measures.
"""
