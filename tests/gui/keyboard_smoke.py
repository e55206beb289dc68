"""Drive the real window with real X key presses (xdotool) on a virtual screen.

Run by tests/gui/test_keyboard_xvfb.py under ``xvfb-run`` (1280×720) with
QT_QPA_PLATFORM=xcb. Prints one JSON line with what each key did and whether the first
window fits the screen; exits with the application's code (Ctrl+Q must quit with 0).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from bpviz.engine.experiment import Setup
from bpviz.views.main_window import MainWindow

results: dict[str, object] = {}


def key(name: str) -> None:
    subprocess.run(["xdotool", "key", "--clearmodifiers", name], check=True)


def settle(seconds: float = 0.4) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def fits() -> dict[str, bool]:
    """The first window within 90 % of the screen, every dock inside it at its minimum size."""
    end = time.perf_counter() + 20
    while not window.first_layout_done and time.perf_counter() < end:
        settle(0.05)
    available = window.screen().availableGeometry()
    frame = window.frameGeometry()
    inside = window.rect()
    docks = (window.controls_dock, window.loss_dock, window.output_dock, window.inspector_dock)
    return {
        "window_fits_the_screen": available.contains(frame)
        and window.width() <= 0.9 * available.width()
        and window.height() <= 0.9 * available.height(),
        "every_dock_shows_whole": all(
            d.isVisible()
            and inside.contains(d.geometry())
            and d.width() >= d.widget().minimumSizeHint().width()
            and d.height() >= d.widget().minimumSizeHint().height()
            for d in docks
        ),
    }


def run() -> None:
    # The training process builds the first network: wait for its first snapshot.
    end = time.perf_counter() + 30
    while window._latest is None and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)
    settle(0.3)
    results.update(fits())
    snap = lambda: window._latest  # noqa: E731
    key("space")
    settle(0.8)
    results["space_plays"] = window.session_playing and snap().iteration > 0
    key("space")
    settle(0.4)
    results["space_pauses"] = not window.session_playing
    key("r")
    settle()
    results["r_resets"] = snap().iteration == 0
    key("Right")
    settle()
    results["right_steps_a_phase"] = snap().phase is not None and snap().phase.index == 0
    key("Next")  # a clicker's Page Down
    settle()
    results["page_down_steps_a_phase"] = snap().phase is not None and snap().phase.index == 1
    key("Left")
    settle()
    results["left_steps_back"] = snap().phase is not None and snap().phase.index == 0
    key("shift+Right")
    settle()
    results["shift_right_steps_an_iteration"] = snap().iteration == 1
    window.controls.lr.setFocus()
    settle(0.2)
    key("space")
    settle(0.6)
    results["space_plays_with_a_spin_box_focused"] = window.session_playing
    key("space")
    settle(0.4)
    window.network_view.setFocus()
    scale = window.font_scale
    key("ctrl+equal")
    settle(0.3)
    results["ctrl_equal_enlarges_text"] = scale() > 1.1
    key("ctrl+plus")  # Ctrl+Shift+= on a US keyboard
    settle(0.3)
    results["ctrl_plus_enlarges_text"] = scale() > 1.3
    key("ctrl+minus")
    settle(0.3)
    results["ctrl_minus_shrinks_text"] = 1.1 < scale() < 1.3
    key("ctrl+0")
    settle(0.3)
    results["ctrl_0_resets_text"] = abs(scale() - 1.0) < 1e-9
    key("F5")
    settle(0.6)
    results["f5_presenter"] = window.acts.presenter.isChecked() and window.isFullScreen()
    key("F5")
    settle(0.6)
    results["f5_back"] = not window.acts.presenter.isChecked()
    print(json.dumps(results), flush=True)
    key("ctrl+q")
    # If Ctrl+Q did nothing, quit with a distinct code after a while.
    QTimer.singleShot(5000, lambda: app.exit(3))


if __name__ == "__main__":  # the training process's fork server imports this file too
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QApplication(sys.argv)
    window = MainWindow(
        Setup(dataset="xor4", hidden=(3,), batch_size=4, lr=0.5, test_fraction=0.0),
        restore=False,
    )
    window.show()
    window.activateWindow()
    QTimer.singleShot(300, run)
    sys.exit(app.exec())
