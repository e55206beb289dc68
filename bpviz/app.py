"""Entry point: ``bpviz`` opens the window on a built-in example."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Start the application; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv:
        from . import cli

        code = cli.main(argv)
        if code is not None:
            return code
    from PySide6.QtWidgets import QApplication

    from . import __version__
    from .views.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName("bpviz")
    app.setOrganizationName("bpviz")
    app.setApplicationVersion(__version__)
    window = MainWindow()
    window.show()
    return app.exec()
