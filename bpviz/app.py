"""Entry point: ``bpviz`` opens the window on a built-in example."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Start the application; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    label = QLabel("bpviz")
    label.show()
    return app.exec()
