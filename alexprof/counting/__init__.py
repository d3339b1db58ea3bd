"""Counting: per-layer parameters and MACs/FLOPs, forward and backward, with no forward pass.

``formulas`` (one cost formula per descriptor type), ``conventions`` (how each peer turns
a cost into its figure; FLOPs = 2 x MACs), ``analysis`` (``count``: a network -> a Report)
and ``rows`` (the row type shared with the measured side).  Imports :mod:`alexprof.nets`;
never torch.
"""
