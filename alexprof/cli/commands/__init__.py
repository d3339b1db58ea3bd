"""One module per command, each a plain function: parse, call core (imported inside the
function, so a command loads only what it uses), hand plain data to the renderer.  They
are attached by :mod:`alexprof.cli.app` and never import it."""
