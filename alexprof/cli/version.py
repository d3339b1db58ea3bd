"""``alexprof --version``: alexprof's version and those of what it measures against.

Read from the installed packages' metadata (:mod:`importlib.metadata`), so torch and
ptflops are named without being imported.
"""

from __future__ import annotations

import platform

PEERS = ("torch", "ptflops")  # the measuring side: what --verify and memtrace compare with


def versions() -> dict[str, str]:
    """{'alexprof': '0.1.0', 'torch': '2.13.0+cpu', 'ptflops': '0.7.5', 'Python': '3.11.7'}."""
    from importlib.metadata import PackageNotFoundError, version

    from alexprof import __version__

    found = {"alexprof": __version__}
    for name in PEERS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    found["Python"] = f"{platform.python_version()} ({platform.python_implementation()})"
    return found


def version_text() -> str:
    return "".join(f"{name} {value}\n" for name, value in versions().items())
