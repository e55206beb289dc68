"""Open the real window on one offscreen screen; report what the network picture writes where.

Run by tests/gui/test_network_labels.py as ``QT_QPA_PLATFORM=offscreen:configfile=SCREEN.json
python label_probe.py SETTINGS_DIR EXAMPLE...``. For each built-in example, first in the
window's normal layout and then in presenter mode, prints one JSON line: the example, the
mode, the picture's size, where the neuron numbers go, every text it draws (kind, text, box,
point size) and its neurons and bias squares.
"""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from bpviz.engine.experiment import PRESETS
from bpviz.views.main_window import MainWindow


def wait(condition, what: str, seconds: float = 60.0) -> None:
    """Run the event loop until ``condition()`` holds (a deadline only bounds the wait)."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            print(f"timed out waiting for {what}", file=sys.stderr, flush=True)
            sys.exit(3)
        app.processEvents()
        time.sleep(0.005)


def settle() -> None:
    for _ in range(20):
        app.processEvents()


def showing(setup) -> bool:
    """The window shows ``setup``'s network and a snapshot of it."""
    view, snap = window.network_view, window._latest
    return (
        window._setup == setup
        and snap is not None
        and view.is_showing(snap, window._sample)
        and view.sizes == list(window._config["sizes"])
    )


def box(r) -> list[float]:
    return [r.x(), r.y(), r.width(), r.height()]


def report(example: str, mode: str) -> None:
    view = window.network_view
    discs, squares = view.shapes()
    print(json.dumps({
        "example": example,
        "mode": mode,
        "size": [view._W, view._H],
        "sizes": view.sizes,
        "bias": view.bias,
        "placement": view.number_placement(),
        "values": view.values_visible(),
        "texts": [[k, t, box(r), pt] for k, t, r, pt in view.text_boxes()],
        "discs": discs,
        "squares": [box(r) for r in squares],
    }), flush=True)  # fmt: skip


if __name__ == "__main__":  # (a training process started by spawning imports this file)
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, sys.argv[1])
    app = QApplication(sys.argv[:1])
    names = sys.argv[2:]
    window = MainWindow(PRESETS[names[0]][1], restore=False)
    window.show()
    screen = window.screen().geometry()
    for name in names:
        setup = PRESETS[name][1]
        if window._setup != setup:
            window.load_setup(setup)
        wait(lambda setup=setup: showing(setup), f"{name}'s first snapshot")
        wait(lambda: window.first_layout_done, "the first layout")
        settle()
        report(name, "normal")
        window.acts.presenter.trigger()
        wait(lambda: window.geometry() == screen, "presenter mode's full screen")
        settle()
        report(name, "presenter")
        window.acts.presenter.trigger()
        wait(lambda: window.geometry() != screen, "the normal layout")
        settle()
    window.close()
