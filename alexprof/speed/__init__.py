"""From counts to time: built-in devices with sourced peaks (``devices``) and per-layer
roofline floors (``roofline``).  Imports :mod:`alexprof.counting`; never torch.
"""
