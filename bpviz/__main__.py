"""``python -m bpviz``: the same as the ``bpviz`` command."""

import sys

from bpviz.app import main

sys.exit(main())
