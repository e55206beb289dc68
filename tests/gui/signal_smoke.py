"""Start bpviz as the ``bpviz`` command does (bpviz.app.main) on a real X server, play, and wait
for a signal.

Run by tests/gui/test_keyboard_xvfb.py under ``xvfb-run``. Once the window plays, prints one
JSON line with this process's id, then the test sends SIGTERM or SIGINT; the exit code is the
application's (0 when the signal ended it as Ctrl+Q does).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from bpviz.app import main
from bpviz.views.main_window import MainWindow


def window() -> MainWindow | None:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    return next((w for w in found if w.isVisible()), None)


def poll() -> None:
    w = window()
    if w is None or not w.first_layout_done or w._latest is None:
        return
    if not w.session_playing:
        if not started:
            started.append(True)
            w.acts.play_pause.trigger()
        return
    if w._latest.iteration == 0:
        return
    timer.stop()
    print(json.dumps({"pid": os.getpid(), "playing": True, "title": w.windowTitle()}), flush=True)


started: list[bool] = []

if __name__ == "__main__":  # (a training process started by spawning imports this file)
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QApplication(sys.argv[:1])
    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(20)
    sys.exit(main(sys.argv[1:]))
