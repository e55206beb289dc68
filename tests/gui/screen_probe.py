"""Open the real window on the screens the offscreen platform is told about; report where it is.

Run by tests/gui/test_desktop.py as ``QT_QPA_PLATFORM=offscreen:configfile=SCREENS.json
python screen_probe.py SETTINGS_DIR [X Y W H]``. Prints one JSON line once the first
window's layout is done; with X Y W H it then gives the window that geometry and closes it
(the settings remember it for the next run).
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from bpviz.engine.experiment import Setup
from bpviz.views.main_window import MainWindow


def rect(r) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def report() -> None:
    if window._latest is None or (sizing and not window.first_layout_done):
        return
    poll.stop()
    docks = {
        d.windowTitle(): {
            "visible": d.isVisible(),
            "rect": rect(d.geometry()),
            "min": [d.widget().minimumSizeHint().width(), d.widget().minimumSizeHint().height()],
        }
        for d in (window.controls_dock, window.loss_dock, window.output_dock, window.inspector_dock)
    }
    sizes = {
        "network": [window.network_view.width(), window.network_view.height()],
        "loss_plot": [window.loss_plot.plot_widget.width(), window.loss_plot.plot_widget.height()],
        "output": [window.output_view.width(), window.output_view.height()],
        "formulas": [window.inspector.width(), window.inspector.height()],
        "controls": [window.controls.width(), window.controls.minimumSizeHint().width()],
    }
    screens = [rect(s.availableGeometry()) for s in app.screens()]
    print(json.dumps({
        "screens": screens,
        "screen": rect(window.screen().availableGeometry()),
        "window": rect(window.geometry()),
        "inner": rect(window.rect()),
        "docks": docks,
        "sizes": sizes,
    }), flush=True)  # fmt: skip
    if len(sys.argv) > 5:
        target = tuple(int(v) for v in sys.argv[2:6])
        window.setGeometry(*target)
        moved.timeout.connect(lambda: close_once_at(target))
        moved.start(20)
    else:
        window.close()


def close_once_at(target: tuple[int, ...]) -> None:
    if tuple(rect(window.geometry())) == target and window.screen() is not app.screens()[0]:
        moved.stop()
        window.close()


if __name__ == "__main__":  # (a training process started by spawning imports this file)
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, sys.argv[1])
    app = QApplication(sys.argv[:1])
    window = MainWindow(
        Setup(dataset="spiral", hidden=(8, 8, 8, 8), batch_size=10, lr=0.03), restore=True
    )
    window.show()
    sizing = window._docks_to_size  # False when the remembered layout was restored
    moved = QTimer()
    poll = QTimer()
    poll.timeout.connect(report)
    poll.start(20)
    QTimer.singleShot(60_000, lambda: app.exit(3))  # the layout never settled
    sys.exit(app.exec())
