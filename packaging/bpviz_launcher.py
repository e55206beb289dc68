"""Entry script of the PyInstaller build: the same as the ``bpviz`` command.

It lives outside the package so that PyInstaller does not put ``bpviz/`` itself
on the frozen app's module search path.
"""

import multiprocessing
import sys

from bpviz.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # pyqtgraph imports multiprocessing; harmless otherwise
    sys.exit(main())
