"""Training memory, predicted: storages and autograd's order, replayed without torch.

``engine`` (storages, holders, the backward engine), ``step`` (the rule registry and what
rules share), ``rules`` and ``lrn`` (what each layer allocates, keeps and frees),
``training`` (loss and optimizer), ``predict`` (one training step, stage by stage) and
``fit`` (the largest batch that fits).  Imports :mod:`alexprof.nets`; never torch.
"""
