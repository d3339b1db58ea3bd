"""``python -m alexprof``."""

import sys

from alexprof.cli import main

sys.exit(main())
