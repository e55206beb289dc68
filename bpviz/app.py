"""Entry point: ``bpviz [FILE]`` opens the window; ``bpviz train …`` runs headless."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon


def main(argv: list[str] | None = None) -> int:
    """Start the application (or the command line); returns the process exit code."""
    # In a frozen app (PyInstaller), the training process's fork server is this
    # executable started again: run it and exit instead of opening a window.
    import multiprocessing

    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    opening = None
    if argv:
        from . import cli

        code = cli.main(argv)
        if isinstance(code, int):
            return code
        opening = code  # None or cli.OpenFile: checked already
    from .training_process import start_fork_server

    start_fork_server()  # training processes come from it: let it start while Qt loads
    from PySide6.QtWidgets import QApplication

    from . import __version__
    from .views.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1] or ["bpviz"])
    app.setApplicationName("bpviz")
    app.setOrganizationName("bpviz")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.github.bpviz")  # Wayland app id: the .desktop file's name
    icon = app_icon()
    if icon.isNull():
        print("bpviz: warning: cannot load the window icon", file=sys.stderr)
    else:
        app.setWindowIcon(icon)
    window = MainWindow()
    if opening is not None:
        window.open_file(opening.path)
    window.show()
    # Packaging smoke test (packaging/smoke_test.py): close the window after N ms.
    quit_ms = os.environ.get("BPVIZ_SMOKE_TEST_QUIT_MS", "")
    if quit_ms.isdigit():
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(quit_ms), window.close)
    from .desktop import close_on_signals

    with close_on_signals(window):  # SIGTERM, Ctrl+C: as Ctrl+Q
        return app.exec()


def app_icon() -> QIcon:
    """The application icon (bpviz/resources/icon.svg); a null QIcon if it cannot be loaded."""
    from importlib import resources

    from PySide6.QtGui import QIcon

    try:
        path = resources.files("bpviz") / "resources" / "icon.svg"
        icon = QIcon(str(path)) if path.is_file() else QIcon()
    except (ModuleNotFoundError, TypeError):  # unusual importers
        return QIcon()
    return icon if not icon.pixmap(32, 32).isNull() else QIcon()
