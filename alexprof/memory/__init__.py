"""Training memory, predicted: storages and autograd's order, replayed without torch.

``engine`` (storages, holders, the backward engine), ``step`` (the rule registry and what
rules share), ``rules`` and ``lrn`` (what each layer allocates, keeps and frees),
``training`` (loss and optimizer), ``predict`` (one training step, stage by stage) and
``fit`` (the largest batch that fits).  Imports :mod:`alexprof.nets`; never torch.
"""

RULES_CHECKED_WITH = "2.13"
"""The torch release (major.minor) whose allocation traces the rules were read off and checked
against.  No rule is keyed on the version yet: none was seen to differ, and a run on another
torch says which one ran (``memtrace``'s footer and JSON ``torch``)."""
