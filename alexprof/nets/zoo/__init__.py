"""The networks known by name, one module per family (``alexnet``, ``classic``,
``inception``, ``resnet``, ``mobilenet``, ``densenet``), and
:mod:`~alexprof.nets.zoo.index`, the explicit index of them all.

Families import descriptors only; nothing here imports the index back.  No torch.
"""
