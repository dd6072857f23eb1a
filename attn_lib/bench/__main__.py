"""``python -m attn_lib.bench``: see :mod:`attn_lib.bench.run`."""

import sys

from .run import main

sys.exit(main())
